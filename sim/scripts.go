package sim

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"wsusfix/remote/scripts"
)

// This file is powershell.exe as the product uses it: the one command line
// scripts.Bootstrap, with a payload on stdin naming one of the product's
// scripts (remote/scripts). The scripts are not interpreted; each has a Go
// twin (scripts_*.go, wsus.go) that reads and changes the host's state the
// way the real script acts on Windows, and prints what the real script
// prints: the same human lines and tagged lines, in the same order, with
// the same exit codes. Where the .ps1 changes, its twin must follow.

// exitCtrlC is what a console process that is interrupted exits with
// (STATUS_CONTROL_C_EXIT, 0xC000013A); nobody reads it once the client has
// signalled, but it is what Windows would report.
const exitCtrlC = -1073741510

// Paths the scripts print: [Environment]::GetFolderPath('Windows') and
// [Environment]::SystemDirectory.
const (
	windowsDir = `C:\Windows`
	systemDir  = `C:\Windows\system32`
)

// scriptFunc is the Go twin of one script; it returns the exit code.
type scriptFunc func(r *psRun, paramsB64 string) int

// scriptFuncs maps script names to their twins.
var scriptFuncs = map[string]scriptFunc{
	scripts.Preflight:     runPreflight,
	scripts.SaveHistory:   runSaveHistory,
	scripts.StopServices:  runStopServices,
	scripts.Rename:        runRename,
	scripts.StartServices: runStartServices,
	scripts.Detect:        runDetect,
	scripts.Verify:        runVerify,
	scripts.Cleanup:       runCleanup,
	scripts.WSUSInventory: runWSUSInventory,
}

// registerScripts installs powershell.exe. pwsh gets the same program so a
// caller that tries PowerShell 7 sees the same refusal of an unknown
// command line rather than a missing program.
func (s *Server) registerScripts() {
	s.Handle("powershell", s.powershell)
	s.Handle("pwsh", s.powershell)
}

// powershell runs scripts.Bootstrap with its payload; any other command
// line gets PowerShell's complaint about a command it does not know.
func (s *Server) powershell(ctx context.Context, c *Cmd) int {
	if c.Line != scripts.Bootstrap {
		writeCLIXMLError(c.Stderr, psCommandText(c.Args))
		return 1
	}
	// The bootstrap reads all of stdin before it does anything else.
	stdin, err := io.ReadAll(c.Stdin)
	if err != nil {
		return exitCtrlC // the command was ended while waiting for input
	}
	if c.ConsoleModeStdin {
		// With WINRS_CONSOLEMODE_STDIN=TRUE the process gets a console, not
		// a pipe, and powershell.exe's $input enumerates nothing of what the
		// client sent (WinRb/WinRM#99; Ansible sends FALSE whenever it pipes
		// stdin, in its winrm connection's _winrm_exec). The bootstrap then
		// finds no payload.
		stdin = nil
	}
	r := &psRun{s: s, ctx: ctx, c: c, m: c.Machine, step: scripts.BootstrapStep}
	if c.Machine.State().ConstrainedLanguage {
		r.bootstrapLine(scripts.StatusRefused, scripts.ReasonConstrainedLanguage, scripts.ConstrainedLanguageMessage)
		return scripts.ExitRefused
	}
	if major, _, _ := strings.Cut(c.Machine.State().PSVersion, "."); major != "" {
		if n, err := strconv.Atoi(major); err == nil && n < 3 {
			r.bootstrapLine(scripts.StatusRefused, scripts.ReasonPSTooOld, "PowerShell 3.0 or later is required")
			return scripts.ExitRefused
		}
	}
	if lines := strings.Split(strings.TrimSuffix(string(stdin), "\n"), "\n"); len(stdin) == 0 || len(lines) < 2 {
		r.bootstrapLine(scripts.StatusFailed, scripts.ReasonBadPayload, "stdin did not hold parameters and a script")
		return scripts.ExitBadParams
	}
	name, params, _, err := scripts.ParsePayload(stdin)
	fn := scriptFuncs[name]
	if err == nil && fn == nil {
		err = fmt.Errorf("sim: no simulation of script %q", name)
	}
	if err != nil {
		// The real bootstrap would run whatever it was given; the simulator
		// can only run the product's own scripts, and says so the way the
		// bootstrap reports a script that broke.
		// Like the bootstrap, on stdout: stderr belongs to PowerShell's CLIXML.
		r.text("wsusfix bootstrap: " + err.Error())
		r.bootstrapLine(scripts.StatusFailed, scripts.ReasonUnexpected, "the step stopped on an error it did not handle; see its output")
		return scripts.ExitUnexpected
	}
	r.step = name
	if st := c.Machine.State(); st.Fault == FaultNoResult && (st.NoResultStep == "" || st.NoResultStep == name) {
		fmt.Fprint(c.Stdout, "hi\r\n")
		return 0
	}
	code := fn(r, params)
	if r.cancelled() {
		return exitCtrlC
	}
	return code
}

// psRun is one run of a script: where it prints, the host it acts on, and
// its simulated clock.
type psRun struct {
	s     *Server
	ctx   context.Context
	c     *Cmd
	m     *Machine
	step  string
	clock time.Duration // simulated time since the script started

	neverFail bool // cleanup: failures become warnings, and it exits 0
	warnings  int
}

// cancelled reports whether the client ended the command.
func (r *psRun) cancelled() bool { return r.ctx.Err() != nil }

// sleep lets simulated time d pass, scaled by Options.ScriptTimeScale, and
// reports false when the command was ended meanwhile. Callers stop at
// once then; what they already changed on the host stays changed.
func (r *psRun) sleep(d time.Duration) bool {
	r.clock += d
	scale := r.s.opt.ScriptTimeScale
	if scale < 0 || d <= 0 {
		return !r.cancelled()
	}
	t := time.NewTimer(time.Duration(float64(d) * scale))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.ctx.Done():
		return false
	}
}

// vary returns base plus a share of spread from the Server's seeded
// generator, so simulated work takes plausible, repeatable times.
func (r *psRun) vary(base, spread time.Duration) time.Duration {
	return base + r.s.jitter(spread)
}

// now is the host's own clock, which may be off the dashboard's by
// Quirks.ClockSkew.
func (r *psRun) now() time.Time {
	return time.Now().Add(r.m.State().ClockSkew)
}

// text prints lines for people like Write-WsusfixText: one per line of s,
// with the result tag broken up so host data can never pose as a result.
func (r *psRun) text(s string) {
	var b strings.Builder
	for _, part := range lineBreak.Split(s, -1) {
		b.WriteString(strings.ReplaceAll(part, scripts.Tag, "WSUSFIX: "))
		b.WriteString("\r\n")
	}
	_, _ = io.WriteString(r.c.Stdout, b.String())
}

var lineBreak = regexp.MustCompile("\r?\n")

// header is what Write-WsusfixLine puts first on every line.
func (r *psRun) header(kind string) scripts.Header {
	return scripts.Header{Kind: kind, Step: r.step, TS: psDate(r.now())}
}

// line prints one result line; v is a record of remote/scripts.
func (r *psRun) line(v any) {
	s, err := scripts.FormatLine(v)
	if err != nil {
		// A record that does not format is a bug in this file, not a host
		// condition; stderr makes it visible without a panic.
		fmt.Fprintf(r.c.Stderr, "sim: %v\r\n", err)
		return
	}
	_, _ = io.WriteString(r.c.Stdout, s+"\r\n")
}

// warn is Write-WsusfixWarning.
func (r *psRun) warn(code, message string) {
	r.warnings++
	r.text("Warning: " + message)
	r.line(scripts.Warning{Header: r.header(scripts.KindWarning), Code: code, Message: message})
}

// complete is Complete-Wsusfix without the extra fields: the result line
// and the exit code that goes with it.
func (r *psRun) complete(status, reason, message string) int {
	return r.completeVerdict(status, reason, message, "")
}

// completeVerdict is Complete-Wsusfix; verdict is verify's extra field.
func (r *psRun) completeVerdict(status, reason, message, verdict string) int {
	if r.neverFail && status != scripts.StatusOK && status != scripts.StatusSkipped {
		r.warn(reason, message)
		status, reason = scripts.StatusOK, scripts.ReasonIncomplete
	}
	r.line(scripts.Result{Header: r.header(scripts.KindResult), Status: status, Reason: reason, Message: message, Verdict: verdict})
	switch {
	case status == scripts.StatusRefused:
		return scripts.ExitRefused
	case status != scripts.StatusFailed:
		return scripts.ExitOK
	case reason == scripts.ReasonBadParams:
		return scripts.ExitBadParams
	case reason == scripts.ReasonUnexpected:
		return scripts.ExitUnexpected
	}
	return scripts.ExitFailed
}

// bootstrapLine prints one of the bootstrap's own result lines, which carry
// no time stamp.
func (r *psRun) bootstrapLine(status, reason, message string) {
	r.line(scripts.Result{Header: scripts.Header{Kind: scripts.KindResult, Step: scripts.BootstrapStep},
		Status: status, Reason: reason, Message: message})
}

// decode reads the script's parameters (Read-WsusfixParams), or prints the
// bad_params result and returns its exit code with ok false.
func (r *psRun) decode(paramsB64 string, v any) (code int, ok bool) {
	if err := scripts.DecodeParams(paramsB64, v); err != nil {
		return r.complete(scripts.StatusFailed, scripts.ReasonBadParams, "the parameters are not base64-encoded JSON: "+err.Error()), false
	}
	return 0, true
}

// intParam is Get-WsusfixInt: zero or negative means def, above max is max.
func intParam(n, def, max int) int {
	switch {
	case n <= 0:
		return def
	case n > max:
		return max
	}
	return n
}

// serviceNamePattern is the prelude's $WsusfixServiceNamePattern.
var serviceNamePattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,79}$`)

// serviceParams is Get-WsusfixStringList with the default services, then
// Assert-WsusfixServiceNames; ok is false when a name was refused (the
// result is printed and code is the exit code).
func (r *psRun) serviceParams(list []string) (names []string, code int, ok bool) {
	for _, n := range list {
		if n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		names = scripts.DefaultServices()
	}
	for _, n := range names {
		if !serviceNamePattern.MatchString(n) {
			return nil, r.complete(scripts.StatusFailed, scripts.ReasonBadParams, "a service name holds characters no service name has"), false
		}
	}
	return names, 0, true
}

// psDate is Format-WsusfixDate: UTC to the second, "" for no date (the real
// emitter prints null, which remote/scripts reads back as "").
func psDate(t time.Time) string {
	if t.IsZero() || t.Year() <= 1900 {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// hresultText is how .NET shows an HRESULT in the scripts' messages:
// "0x80070002" ($hr.ToString('X8')).
func hresultText(hr uint32) string {
	return fmt.Sprintf("0x%08X", hr)
}

// ---- PowerShell given something else ---------------------------------------

// psCommandText finds the PowerShell code in powershell.exe's arguments:
// the decoded -EncodedCommand, the -Command text, or the bare arguments.
func psCommandText(args string) string {
	fields := strings.Fields(args)
	for i := 0; i < len(fields); i++ {
		f := strings.ToLower(fields[i])
		if !strings.HasPrefix(f, "-") && !strings.HasPrefix(f, "/") {
			return strings.Join(fields[i:], " ")
		}
		switch strings.TrimLeft(f, "-/") {
		case "encodedcommand", "enc", "e", "ec":
			if i+1 < len(fields) {
				return decodeEncodedCommand(fields[i+1])
			}
			return ""
		case "command", "c":
			return strings.Join(fields[i+1:], " ")
		case "executionpolicy", "ep", "windowstyle", "w", "outputformat", "of", "inputformat", "if", "version", "v", "psconsolefile", "configurationname":
			i++ // these take a value
		}
	}
	return ""
}

// decodeEncodedCommand reverses -EncodedCommand: base64 of UTF-16LE.
func decodeEncodedCommand(b64 string) string {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw)%2 != 0 {
		return b64 // PowerShell would then complain about the text itself
	}
	units := make([]uint16, len(raw)/2)
	for i := range units {
		units[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	return string(utf16.Decode(units))
}

// writeCLIXMLError writes what Windows PowerShell writes to a redirected
// stderr when its command fails: the error record serialized as CLIXML,
// one <S S="Error"> per console line. The simulator runs no PowerShell but
// the product's scripts, so any other command is "not recognized".
func writeCLIXMLError(w io.Writer, command string) {
	// The first statement: comments and blank lines are skipped.
	firstLine := ""
	for l := range strings.Lines(command) {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			firstLine = l
			break
		}
	}
	term, _, _ := strings.Cut(firstLine, " ")
	var lines []string
	if term == "" {
		lines = []string{
			"powershell.exe : this simulated host runs only the wsusfix bootstrap (scripts.Bootstrap); the command line held no command",
			"    + CategoryInfo          : InvalidArgument: (:) [], ParameterBindingException",
			"    + FullyQualifiedErrorId : MissingCommand",
			" ",
		}
	} else {
		lines = []string{
			term + " : The term '" + term + "' is not recognized as the name of a cmdlet, function, script file, or operable program. " +
				"Check the spelling of the name, or if a path was included, verify that the path is correct and try again.",
			"At line:1 char:1",
			"+ " + firstLine,
			"+ " + strings.Repeat("~", len([]rune(term))),
			"    + CategoryInfo          : ObjectNotFound: (" + term + ":String) [], CommandNotFoundException",
			"    + FullyQualifiedErrorId : CommandNotFoundException",
			" ",
		}
	}
	var b strings.Builder
	b.WriteString("#< CLIXML\r\n")
	b.WriteString(`<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">`)
	// Windows PowerShell reports loading its modules as progress first.
	b.WriteString(`<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN>` +
		`<MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for first use.</AV><AI>0</AI><Nil /><PI>-1</PI>` +
		`<PC>-1</PC><T>Completed</T><SR>-1</SR><SD> </SD></PR></MS></Obj>`)
	// The message is wrapped to the console's width; the lines of the
	// error's position and category are not.
	for _, l := range append(wrapConsole(lines[0]), lines[1:]...) {
		b.WriteString(`<S S="Error">` + clixmlString(l+"\r\n") + `</S>`)
	}
	b.WriteString("</Objs>\r\n")
	_, _ = io.WriteString(w, b.String())
}

// consoleWidth is the widest message line the error view prints without a
// console: it wraps at word boundaries to fit 80 columns.
const consoleWidth = 79

// wrapConsole splits a message as the error view wraps it.
func wrapConsole(line string) []string {
	var out []string
	for len([]rune(line)) > consoleWidth {
		r := []rune(line)
		cut := strings.LastIndex(string(r[:consoleWidth+1]), " ")
		if cut <= 0 {
			cut = len(string(r[:consoleWidth]))
			out = append(out, line[:cut])
			line = line[cut:]
			continue
		}
		out = append(out, line[:cut])
		line = line[cut+1:]
	}
	return append(out, line)
}

// clixmlString escapes text as CLIXML does: XML entities, and control
// characters as _xHHHH_ (so CRLF is _x000D__x000A_).
func clixmlString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r < 0x20:
			fmt.Fprintf(&b, "_x%04X_", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// errCancelled tells a script's helpers to stop: the client ended the
// command.
var errCancelled = errors.New("sim: command ended")

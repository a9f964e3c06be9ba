// Package scripts owns the PowerShell that wsusfix runs on Windows hosts and
// the wire format around it: the steps of the KB 910336 repair and the WSUS
// inventory query as embedded *.ps1 files, how a step and its parameters are
// sent, and the result lines a step prints. The procedure code in remote
// uses it to build what it sends; the simulator in sim uses it to recognise
// what it receives and to answer in the same format.
//
// The wire format, in short:
//
//   - The command line is always Bootstrap: powershell.exe with a small
//     fixed script as -EncodedCommand. It never varies with the step or its
//     parameters, so nothing from a user, the inventory or a host is ever
//     part of a command line or of script text, and no step is bound by
//     cmd.exe's 8191-character limit.
//   - stdin is the Payload: one line of parameters, base64 of UTF-8 JSON
//     (EncodeParams), then the prelude and the step's script. The bootstrap
//     runs the script with the parameters as its one argument, and the
//     script decodes them itself into plain data.
//   - stdout holds result lines, "WSUSFIX " and one JSON object each, ASCII
//     only (ParseLine, FormatLine), between free-text lines meant for
//     people; the process exit code says how the step ended (Exit*).
//
// Result lines come from the host and are claims, not facts: the parser
// bounds what a line can do (one JSON object on one line), not what it says.
//
// The package performs no I/O and holds no mutable state; everything is
// safe for concurrent use.
package scripts

import (
	"embed"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf16"
)

// Names of the scripts, in the order the repair runs them; the last two are
// the WSUS inventory queries, which run on the WSUS server.
const (
	Preflight     = "preflight"
	SaveHistory   = "save-history"
	StopServices  = "stop-services"
	Rename        = "rename"
	StartServices = "start-services"
	Detect        = "detect"
	Verify        = "verify"
	Cleanup       = "cleanup"
	WSUSInventory = "wsus-inventory"
)

// MaxCommandLine is the longest command line cmd.exe runs (8191
// characters); WinRS passes every command through it. Bootstrap is far
// shorter, which a test checks.
const MaxCommandLine = 8191

// scriptHeader starts the first line of every step script; the rest of that
// line is the script's name.
const scriptHeader = "# wsusfix-script: "

// The step's script runs as a script block of its own inside the one the
// bootstrap creates: PowerShell allows param() only at the top of a block,
// and the prelude's functions must come first. @args passes on the
// parameters the bootstrap gave the outer block.
const (
	scopeOpen  = "# The step runs in a scope of its own; the prelude's functions stay visible.\n& {\n"
	scopeClose = "} @args\n"
)

// commandPrefix is the fixed part of Bootstrap. -NoProfile keeps profiles
// out of the step; -NonInteractive makes a prompt an error instead of a hang.
const commandPrefix = "powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand "

//go:embed *.ps1
var files embed.FS

var (
	names = []string{Preflight, SaveHistory, StopServices, Rename, StartServices,
		Detect, Verify, Cleanup, WSUSInventory}
	// The prelude is two files so that each stays readable: the output
	// contract and parameters, then the host helpers.
	prelude         = mustRead("prelude.ps1") + mustRead("prelude-host.ps1")
	bootstrapScript = mustRead("bootstrap.ps1")
	sources         = readSources()
	blocks          = assembleBlocks()
)

// Two rules of the bootstrap are explained here, where comments cost
// nothing; in bootstrap.ps1 every character counts against cmd.exe's
// command line three times over (UTF-16, then base64).
//
//   - It prints only to stdout. With -EncodedCommand and stderr redirected,
//     PowerShell writes its own errors to stderr as one CLIXML document that
//     closes only when the process exits; plain text written there too would
//     be glued into that document and garble its decoding.
//   - It checks the language mode right after reading stdin, before anything
//     else. Under a WDAC or AppLocker policy PowerShell runs in Constrained
//     Language Mode, where [Console], COM objects, registry views and
//     mutexes are refused, so every step would fail half-way and even the
//     bootstrap's own catch would end with no result line. Ansible's
//     PowerShell bootstrap wrapper checks the mode first for this reason.
//     The refusal is a bare string, the one kind of output constrained
//     language allows.

// Bootstrap is the one command line that runs every script: powershell.exe
// -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass
// -EncodedCommand and the base64 of the UTF-16LE bootstrap script
// (BootstrapScript). It never changes with the script or its parameters.
// The bootstrap reads all of stdin (Payload) before it runs anything, so the
// caller must close stdin after writing the payload.
var Bootstrap = commandPrefix + encodeCommand(bootstrapScript)

// BootstrapScript returns the PowerShell that Bootstrap encodes, for tests
// and the simulator.
func BootstrapScript() string {
	return bootstrapScript
}

// Names returns the names of all scripts, in the order the repair runs
// them. The caller owns the returned slice.
func Names() []string {
	return append([]string(nil), names...)
}

// Source returns the text of the named script as embedded, without the
// prelude.
func Source(name string) (string, error) {
	src, ok := sources[name]
	if !ok {
		return "", fmt.Errorf("scripts: unknown script %q", name)
	}
	return src, nil
}

// Payload returns what is written to the command's stdin for the named
// script: the parameters encoded by EncodeParams on the first line, then the
// prelude (prelude.ps1, prelude-host.ps1) and the script. params must be the script's own parameter struct
// (PreflightParams for Preflight, and so on) or a pointer to one; nil means
// the zero struct, that is, every default. Only the first line depends on
// params.
func Payload(name string, params any) ([]byte, error) {
	block, ok := blocks[name]
	if !ok {
		return nil, fmt.Errorf("scripts: unknown script %q", name)
	}
	want := paramTypes[name]
	if params == nil {
		params = reflect.New(want).Interface()
	}
	got := reflect.TypeOf(params)
	if got != want && got != reflect.PointerTo(want) {
		return nil, fmt.Errorf("scripts: %s takes %v, not %v", name, want, got)
	}
	b64, err := EncodeParams(params)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(b64)+1+len(block))
	out = append(out, b64...)
	out = append(out, '\n')
	return append(out, block...), nil
}

// ParsePayload splits a payload the way the bootstrap does and identifies
// the script: its name (from the "# wsusfix-script:" line), the base64
// parameters of the first line (for DecodeParams), and the script text the
// bootstrap would run (everything after the first line). It fails unless
// that text is exactly what Payload sends for the name, so a simulator
// never "runs" a script it does not know.
func ParsePayload(stdin []byte) (name, paramsB64, script string, err error) {
	text := string(stdin)
	first, rest, found := strings.Cut(text, "\n")
	if !found {
		return "", "", "", errors.New("scripts: payload has no line break after the parameters")
	}
	paramsB64 = strings.TrimSuffix(first, "\r")
	if paramsB64 == "" {
		return "", "", "", errors.New("scripts: payload has no parameters")
	}
	if _, err := base64.StdEncoding.Strict().DecodeString(paramsB64); err != nil {
		return "", "", "", fmt.Errorf("scripts: payload parameters are not base64: %w", err)
	}
	for line := range strings.Lines(rest) {
		if after, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), scriptHeader); ok {
			name = after
			break
		}
	}
	if name == "" {
		return "", "", "", errors.New("scripts: payload names no script")
	}
	if blocks[name] != rest {
		return "", "", "", fmt.Errorf("scripts: payload script %q differs from the embedded one", name)
	}
	return name, paramsB64, rest, nil
}

// encodeCommand encodes a script for powershell.exe -EncodedCommand:
// base64 of its UTF-16LE code units, without a byte-order mark.
func encodeCommand(script string) string {
	units := utf16.Encode([]rune(script))
	raw := make([]byte, 0, 2*len(units))
	for _, u := range units {
		raw = binary.LittleEndian.AppendUint16(raw, u)
	}
	return base64.StdEncoding.EncodeToString(raw)
}

// mustRead returns an embedded file. The files are part of the binary, so
// a missing one is a build mistake that every test run reports at once.
func mustRead(file string) string {
	b, err := files.ReadFile(file)
	if err != nil {
		panic("scripts: " + err.Error())
	}
	return string(b)
}

func readSources() map[string]string {
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = mustRead(n + ".ps1")
	}
	return m
}

func assembleBlocks() map[string]string {
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = prelude + scopeOpen + sources[n] + scopeClose
	}
	return m
}

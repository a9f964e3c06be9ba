package sim

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// shell is one open WinRS cmd shell. Its fields are guarded by the owning
// host's mu.
type shell struct {
	id       string
	owner    string // lower-case account name: the quota is per user
	lastUsed time.Time
	cmds     map[string]*command
	// codePage is the shell's WINRS_CODEPAGE: what its programs' console
	// output is encoded in. noProfile is its WINRS_NOPROFILE.
	codePage  int
	noProfile bool
	orphans   []*command // forgotten commands whose processes end with the shell
}

// command is one process started in a shell.
type command struct {
	id     string
	cancel context.CancelFunc
	stdin  *stdinBuffer
	out    *outputBuffer
}

// stop ends a shell's commands; the caller removes the shell.
func (sh *shell) stop() {
	for _, c := range sh.cmds {
		c.cancel()
	}
	for _, c := range sh.orphans {
		c.cancel()
	}
}

// findShell returns the request's shell and marks it used, or answers the
// unknown-shell fault and returns nil.
func (x *exchange) findShell() *shell {
	x.h.mu.Lock()
	defer x.h.mu.Unlock()
	return x.shellLocked()
}

// shellLocked is findShell with x.h.mu held.
func (x *exchange) shellLocked() *shell {
	sh := x.h.shells[x.req.ShellID]
	if sh == nil {
		x.fault(faultUnknownShell())
		return nil
	}
	sh.lastUsed = time.Now()
	return sh
}

// findCommand returns a command of the request's shell, answering the
// matching fault when the shell or the command does not exist.
func (x *exchange) findCommand(id string) *command {
	x.h.mu.Lock()
	defer x.h.mu.Unlock()
	sh := x.shellLocked()
	if sh == nil {
		return nil
	}
	c := sh.cmds[strings.ToUpper(strings.TrimSpace(id))]
	if c == nil {
		x.fault(faultUnknownCommand())
		return nil
	}
	return c
}

// create opens a shell, unless the host's fault or the per-user quota
// refuses it the way Windows does.
func (s *Server) create(x *exchange) {
	switch x.h.m.Fault() {
	case FaultAccessDenied:
		x.fault(faultAccessDenied())
		return
	case FaultQuota:
		x.fault(faultQuota(s.opt.MaxShellsPerUser))
		return
	}
	codePage, ok := shellCodePage(x.req.Options["WINRS_CODEPAGE"])
	if !ok {
		x.fault(faultInvalidParameter())
		return
	}
	owner := strings.ToLower(x.user)
	now := time.Now()
	x.h.mu.Lock()
	open := 0
	for id, sh := range x.h.shells {
		// Shells a client leaked count against the quota until they idle out,
		// as on Windows; expiring them lazily here needs no reaper goroutine.
		if s.opt.IdleTimeout > 0 && now.Sub(sh.lastUsed) > s.opt.IdleTimeout {
			sh.stop()
			delete(x.h.shells, id)
			continue
		}
		if sh.owner == owner {
			open++
		}
	}
	if open >= s.opt.MaxShellsPerUser {
		x.h.mu.Unlock()
		x.fault(faultQuota(s.opt.MaxShellsPerUser))
		return
	}
	sh := &shell{id: newUUID(), owner: owner, lastUsed: now, cmds: map[string]*command{},
		codePage: codePage, noProfile: x.req.option("WINRS_NOPROFILE")}
	x.h.shells[sh.id] = sh
	x.h.mu.Unlock()
	x.h.ctr.shellsCreated.Add(1)

	addr := x.req.To
	if addr == "" {
		addr = "http://" + x.r.Host + "/wsman"
	}
	idle := "PT7200.000S"
	if s.opt.IdleTimeout > 0 {
		idle = fmt.Sprintf("PT%.3fS", s.opt.IdleTimeout.Seconds())
	}
	body := `<x:ResourceCreated><a:Address>` + esc(addr) + `</a:Address><a:ReferenceParameters>` +
		`<w:ResourceURI>` + resourceCmd + `</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">` + sh.id +
		`</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>` +
		`<rsp:Shell xmlns:rsp="` + nsShell + `"><rsp:ShellId>` + sh.id + `</rsp:ShellId>` +
		`<rsp:ResourceUri>` + resourceCmd + `</rsp:ResourceUri><rsp:Owner>` + esc(x.user) + `</rsp:Owner>` +
		`<rsp:ClientIP>` + esc(x.clientIP()) + `</rsp:ClientIP><rsp:IdleTimeOut>` + idle + `</rsp:IdleTimeOut>` +
		`<rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams>` +
		`<rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime><rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>`
	x.reply(declShell, nsTransfer+"/CreateResponse", body)
}

// command starts a process in a shell. The command line runs through the
// simulated cmd.exe unless WINRS_SKIP_CMD_SHELL is TRUE.
func (s *Server) command(x *exchange) {
	if x.findShell() == nil {
		return
	}
	cl := x.req.Body.CommandLine
	if cl == nil {
		x.fault(faultInvalidParameter())
		return
	}
	parts := append([]string{strings.TrimSpace(cl.Command)}, cl.Arguments...)
	line := strings.Join(parts, " ")
	if len(line) > maxProcessLine {
		x.fault(faultFilenameTooLong())
		return
	}
	viaCmd := !x.req.option("WINRS_SKIP_CMD_SHELL")
	if word, _ := splitFirst(line); !viaCmd && s.cmds.get(word) == nil {
		x.fault(faultFileNotFound())
		return
	}

	ctx, cancel := context.WithCancel(s.ctx)
	c := &command{id: newUUID(), cancel: cancel, stdin: newStdinBuffer(ctx), out: newOutputBuffer(ctx)}
	if x.h.m.Fault() == FaultReceiveTimeout {
		c.out.timeoutsLeft = s.opt.ReceiveTimeouts
	}
	x.h.mu.Lock()
	sh := x.h.shells[x.req.ShellID]
	if sh == nil { // deleted meanwhile
		x.h.mu.Unlock()
		cancel()
		x.fault(faultUnknownShell())
		return
	}
	sh.cmds[c.id] = c
	// The handler holds a WaitGroup count, so this Add cannot race Close's Wait.
	s.wg.Add(1)
	x.h.mu.Unlock()

	run := &Cmd{Line: line, Stdin: c.stdin, Stdout: consoleWriter(streamWriter{c.out, "stdout"}, sh.codePage),
		Stderr: consoleWriter(streamWriter{c.out, "stderr"}, sh.codePage), Machine: x.h.m, User: s.opt.User, Domain: s.opt.Domain,
		ConsoleModeStdin: x.req.option("WINRS_CONSOLEMODE_STDIN"), NoProfile: sh.noProfile}
	go func() {
		defer s.wg.Done()
		defer cancel()
		c.out.finish(s.runCommand(ctx, run, viaCmd))
	}()
	x.reply(declShell, nsShell+"/CommandResponse",
		`<rsp:CommandResponse><rsp:CommandId>`+c.id+`</rsp:CommandId></rsp:CommandResponse>`)
}

// runCommand runs one process. A panicking CommandFunc is reported on
// stderr rather than taking the whole simulator down.
func (s *Server) runCommand(ctx context.Context, c *Cmd, viaCmd bool) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(c.Stderr, "sim: command %q panicked: %v\r\n", c.Name, p)
			code = 1
		}
	}()
	if viaCmd {
		return s.exec(ctx, c)
	}
	word, rest := splitFirst(c.Line)
	c.Name, c.Args = word, strings.TrimLeft(rest, " \t")
	return s.cmds.get(word)(ctx, c)
}

// send delivers stdin to a command.
func (s *Server) send(x *exchange) {
	if x.req.Body.Send == nil || len(x.req.Body.Send.Streams) == 0 {
		x.fault(faultInvalidParameter())
		return
	}
	for _, st := range x.req.Body.Send.Streams {
		c := x.findCommand(st.CommandID)
		if c == nil {
			return
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(st.Value))
		if err != nil || st.Name != "stdin" {
			x.fault(faultInvalidParameter())
			return
		}
		if !c.stdin.push(data, strings.EqualFold(st.End, "true")) {
			x.fault(faultInvalidParameter())
			return
		}
	}
	x.reply(declShell, nsShell+"/SendResponse", `<rsp:SendResponse/>`)
}

// receive long-polls a command's output: it answers as soon as there is
// output or the command ends, and with the TimedOut fault when nothing
// happens within the request's OperationTimeout.
func (s *Server) receive(x *exchange, wait time.Duration) {
	rc := x.req.Body.Receive
	if rc == nil {
		x.fault(faultInvalidParameter())
		return
	}
	if strings.TrimSpace(rc.DesiredStream.CommandID) == "" {
		// Windows answers a Receive for the shell rather than a command with
		// the cmd plugin's "parameter is incorrect" (capture
		// test_winrs_fail_poll_process.yml).
		x.fault(faultInvalidParameter())
		return
	}
	c := x.findCommand(rc.DesiredStream.CommandID)
	if c == nil {
		return
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	timedOut := func() {
		x.h.ctr.timedOut.Add(1)
		x.fault(faultTimedOut())
	}

	if c.out.forcedTimeout() {
		select {
		case <-timer.C:
			timedOut()
		case <-x.r.Context().Done():
		case <-s.ctx.Done():
		}
		return
	}
	budget := (x.req.maxEnvelope() - 4096) / 4 * 3
	for {
		drop := x.h.m.Fault() == FaultDropConnection
		chunks, state, wake := c.out.take(budget, drop)
		switch state {
		case outDrop:
			x.h.ctr.dropped.Add(1)
			dropConnection(x.w)
			return
		case outRunning, outDone:
			x.reply(declReceive, nsShell+"/ReceiveResponse", receiveBody(c, chunks, state))
			return
		}
		select {
		case <-wake:
		case <-timer.C:
			timedOut()
			return
		case <-x.r.Context().Done():
			return
		case <-s.ctx.Done():
			return
		}
	}
}

// receiveBody renders rsp:ReceiveResponse like Windows: one rsp:Stream per
// chunk, then on completion empty End="true" streams and the exit code.
func receiveBody(c *command, chunks []chunk, state outState) string {
	var b strings.Builder
	b.WriteString(`<rsp:ReceiveResponse>`)
	for _, ch := range chunks {
		b.WriteString(`<rsp:Stream Name="` + ch.stream + `" CommandId="` + c.id + `">`)
		b.WriteString(base64.StdEncoding.EncodeToString(ch.data))
		b.WriteString(`</rsp:Stream>`)
	}
	if state == outDone {
		b.WriteString(`<rsp:Stream Name="stdout" CommandId="` + c.id + `" End="true"></rsp:Stream>`)
		b.WriteString(`<rsp:Stream Name="stderr" CommandId="` + c.id + `" End="true"></rsp:Stream>`)
		b.WriteString(`<rsp:CommandState CommandId="` + c.id + `" State="` + stateDone + `"><rsp:ExitCode>`)
		b.WriteString(strconv.FormatUint(uint64(uint32(c.out.exit())), 10))
		b.WriteString(`</rsp:ExitCode></rsp:CommandState>`)
	} else {
		b.WriteString(`<rsp:CommandState CommandId="` + c.id + `" State="` + stateRunning + `"></rsp:CommandState>`)
	}
	b.WriteString(`</rsp:ReceiveResponse>`)
	return b.String()
}

// signal handles terminate (end and forget the command) and ctrl_c /
// ctrl_break (end it; its exit status stays readable).
func (s *Server) signal(x *exchange) {
	sig := x.req.Body.Signal
	if sig == nil {
		x.fault(faultInvalidParameter())
		return
	}
	c := x.findCommand(sig.CommandID)
	if c == nil {
		return
	}
	switch strings.TrimSpace(sig.Code) {
	case signalTerminate:
		c.cancel()
		x.h.mu.Lock()
		if sh := x.h.shells[x.req.ShellID]; sh != nil {
			delete(sh.cmds, c.id)
		}
		x.h.mu.Unlock()
	case signalCtrlC, signalCtrlBreak:
		c.cancel()
	default:
		x.fault(faultInvalidParameter())
		return
	}
	x.reply(declShell, nsShell+"/SignalResponse", `<rsp:SignalResponse/>`)
}

// deleteShell closes a shell and ends its commands.
func (s *Server) deleteShell(x *exchange) {
	x.h.mu.Lock()
	sh := x.h.shells[x.req.ShellID]
	if sh != nil {
		sh.stop()
		delete(x.h.shells, sh.id)
	}
	x.h.mu.Unlock()
	if sh == nil {
		x.fault(faultUnknownShell())
		return
	}
	x.reply(declDelete, nsTransfer+"/DeleteResponse", "")
}

// ForgetCommands makes the named host forget the commands of its open
// shells while their processes go on, as Windows does once another Signal
// terminate has reached them: later requests for them get the
// unknown-command fault (test_winrs_bad_cmd_id.yml). The processes end
// with their shell. It reports whether the host exists.
func (s *Server) ForgetCommands(name string) bool {
	h := s.lookup(name)
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, sh := range h.shells {
		for id, c := range sh.cmds {
			delete(sh.cmds, id)
			// The shell's stop must still end the process.
			sh.orphans = append(sh.orphans, c)
		}
	}
	return true
}

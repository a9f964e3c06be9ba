package sim

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
)

// CommandFunc simulates one program. It runs in its own goroutine while the
// client polls with Receive; whatever it writes to Stdout and Stderr reaches
// the client in the order written, spread over as many Receives as the
// writes are spread over time. It returns the process exit code.
//
// ctx ends when the client signals terminate or ctrl_c, deletes the shell,
// or the Server closes; a CommandFunc must then return promptly (Close
// waits for it). Reads of Stdin fail from then on. Writes block while the
// client has more than a megabyte of output unread, like a full pipe, and
// fail once ctx has ended while blocked or after the function returned.
type CommandFunc func(ctx context.Context, c *Cmd) int

// Cmd is one invocation of a command, as a CommandFunc sees it.
type Cmd struct {
	// Line is the command line cmd.exe receives: rsp:Command and each
	// rsp:Arguments joined by single spaces.
	Line string
	// Name is the first word of Line as typed, without quotes, e.g.
	// "powershell.exe"; Args is the rest of Line, leading blanks removed.
	Name string
	Args string

	Stdin  io.Reader // what the client Sends; io.EOF after End="true"
	Stdout io.Writer // safe for concurrent use
	Stderr io.Writer // safe for concurrent use

	Machine *Machine // the host the command runs on
	User    string   // the authenticated account, as configured, e.g. "Administrator"
	Domain  string   // the account's NetBIOS domain, "" for a local account

	// ConsoleModeStdin is the Command's WINRS_CONSOLEMODE_STDIN: TRUE gives
	// the process a console instead of a pipe for stdin.
	ConsoleModeStdin bool
	// NoProfile is the shell's WINRS_NOPROFILE: the user's profile was not
	// loaded, so %USERPROFILE% is the Default profile (capture
	// test_winrs_noprofile.yml).
	NoProfile bool
}

// maxCmdLine is cmd.exe's limit on the command line it executes.
const maxCmdLine = 8191

// maxProcessLine is CreateProcess's limit (32767) less `cmd.exe /c ` and
// the path WinRS puts before it, approximately.
const maxProcessLine = 32767 - len(`C:\Windows\system32\cmd.exe /c `)

// registry maps a program name (lower case, no directory, no extension) to
// its CommandFunc. It is safe for concurrent use.
type registry struct {
	mu  sync.RWMutex
	fns map[string]CommandFunc
}

func (r *registry) set(name string, fn CommandFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fns == nil {
		r.fns = map[string]CommandFunc{}
	}
	if fn == nil {
		delete(r.fns, commandKey(name))
		return
	}
	r.fns[commandKey(name)] = fn
}

func (r *registry) get(name string) CommandFunc {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.fns[commandKey(name)]
}

// commandKey normalises how a program may be named on a command line:
// `C:\Windows\System32\HOSTNAME.EXE` and `hostname` are the same program.
func commandKey(name string) string {
	name = strings.ToLower(strings.Trim(name, `"`))
	if i := strings.LastIndexAny(name, `\/`); i >= 0 {
		name = name[i+1:]
	}
	for _, ext := range []string{".exe", ".com", ".bat", ".cmd"} {
		if strings.HasSuffix(name, ext) && len(name) > len(ext) {
			return strings.TrimSuffix(name, ext)
		}
	}
	return name
}

// Handle registers fn as the program name (matched case-insensitively,
// with or without directory and .exe/.com/.bat/.cmd extension), replacing
// any built-in of that name; a nil fn removes it. It is safe to call while
// the Server runs; commands already started keep the function they had.
func (s *Server) Handle(name string, fn CommandFunc) {
	s.cmds.set(name, fn)
}

// splitFirst separates the first word of a command line from the rest.
// A quoted first word may contain blanks; rest keeps its leading blanks
// except the one delimiter, since echo prints them.
func splitFirst(line string) (word, rest string) {
	line = strings.TrimLeft(line, " \t")
	if strings.HasPrefix(line, `"`) {
		end := strings.IndexByte(line[1:], '"')
		if end < 0 {
			return line[1:], ""
		}
		word, rest = line[1:end+1], line[end+2:]
	} else {
		end := strings.IndexAny(line, " \t")
		if end < 0 {
			return line, ""
		}
		word, rest = line[:end], line[end:]
	}
	if rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
		rest = rest[1:]
	}
	return word, rest
}

// exec runs a command line the way cmd.exe /c would: the line-length check,
// then the program named by the first word, or cmd's complaint that there
// is no such program.
func (s *Server) exec(ctx context.Context, c *Cmd) int {
	if len(c.Line) > maxCmdLine {
		fmt.Fprint(c.Stderr, "The command line is too long.\r\n")
		return 1
	}
	word, rest := splitFirst(c.Line)
	if word == "" {
		return 0
	}
	c.Name, c.Args = word, strings.TrimLeft(rest, " \t")
	fn := s.cmds.get(word)
	if fn == nil {
		fmt.Fprintf(c.Stderr, "'%s' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", word)
		return 1
	}
	return fn(ctx, c)
}

// registerBuiltins installs the cmd.exe programs every simulated host has.
// The product's PowerShell steps are registered beside them (scripts.go).
func (s *Server) registerBuiltins() {
	s.Handle("hostname", func(_ context.Context, c *Cmd) int {
		fmt.Fprintf(c.Stdout, "%s\r\n", c.Machine.Name())
		return 0
	})
	s.Handle("whoami", func(_ context.Context, c *Cmd) int {
		domain := c.Domain
		if domain == "" {
			domain = c.Machine.Name() // local accounts are qualified by the computer name
		}
		fmt.Fprintf(c.Stdout, "%s\r\n", strings.ToLower(domain+`\`+c.User))
		return 0
	})
	s.Handle("echo", func(_ context.Context, c *Cmd) int {
		_, raw := splitFirst(c.Line)
		if strings.TrimSpace(raw) == "" {
			raw = "ECHO is on."
		}
		fmt.Fprintf(c.Stdout, "%s\r\n", raw)
		return 0
	})
	s.Handle("ver", func(_ context.Context, c *Cmd) int {
		fmt.Fprintf(c.Stdout, "\r\nMicrosoft Windows [Version %s]\r\n", c.Machine.State().OSBuild)
		return 0
	})
	// more copies stdin to stdout unchanged: the simplest program that
	// proves Send reaches a command. (The real more.com also pages and
	// expands tabs, which nobody relies on over WinRM.)
	s.Handle("more", func(_ context.Context, c *Cmd) int {
		if _, err := io.Copy(c.Stdout, c.Stdin); err != nil {
			return 1
		}
		return 0
	})
	s.Handle("exit", func(_ context.Context, c *Cmd) int {
		args := strings.Fields(c.Args)
		if len(args) > 0 && strings.EqualFold(args[0], "/b") {
			args = args[1:]
		}
		if len(args) == 0 {
			return 0
		}
		n, _ := strconv.ParseInt(args[0], 10, 32)
		return int(n)
	})
	s.Handle("cmd", s.cmdExe)
	s.Handle("set", setEnv)
}

// setEnv is cmd's `set` with no arguments: the environment, in the order
// and form Windows prints it. The profile variables follow WINRS_NOPROFILE
// as in the captures test_winrs_environment.yml (profile loaded) and
// test_winrs_noprofile.yml (USERPROFILE=C:\Users\Default, TEMP under
// %windir%, no APPDATA).
func setEnv(_ context.Context, c *Cmd) int {
	domain := c.Domain
	if domain == "" {
		domain = c.Machine.Name()
	}
	profile, temp := `C:\Users\`+c.User, `C:\Users\`+c.User+`\AppData\Local\Temp`
	vars := []string{`ALLUSERSPROFILE=C:\ProgramData`}
	if c.NoProfile {
		profile, temp = `C:\Users\Default`, `C:\Windows\TEMP`
	} else {
		vars = append(vars, `APPDATA=`+profile+`\AppData\Roaming`)
	}
	vars = append(vars, `COMPUTERNAME=`+c.Machine.Name(), `ComSpec=C:\Windows\system32\cmd.exe`)
	if !c.NoProfile {
		vars = append(vars, `LOCALAPPDATA=`+profile+`\AppData\Local`)
	}
	vars = append(vars, `OS=Windows_NT`, `PROCESSOR_ARCHITECTURE=AMD64`, `PUBLIC=C:\Users\Public`,
		`SystemDrive=C:`, `SystemRoot=C:\Windows`, `TEMP=`+temp, `TMP=`+temp,
		`USERDOMAIN=`+domain, `USERNAME=`+c.User, `USERPROFILE=`+profile, `windir=C:\Windows`)
	for _, v := range vars {
		fmt.Fprintf(c.Stdout, "%s\r\n", v)
	}
	return 0
}

// cmdExe emulates `cmd.exe /c line` (and /k, which behaves the same without
// a console): it runs line as a new command. Without /c or /k it exits 0,
// as cmd does when its stdin holds no commands.
func (s *Server) cmdExe(ctx context.Context, c *Cmd) int {
	rest := c.Args
	for {
		word, after := splitFirst(rest)
		switch strings.ToLower(word) {
		case "/c", "/k":
			line := strings.TrimSpace(after)
			if len(line) >= 2 && line[0] == '"' && line[len(line)-1] == '"' {
				line = line[1 : len(line)-1]
			}
			sub := *c
			sub.Line = line
			return s.exec(ctx, &sub)
		case "/s", "/q", "/d", "/a", "/u":
			rest = after
		default:
			return 0
		}
	}
}

package sim

import (
	"context"
	"testing"
)

// TestSplitFirst ensures the first word is found as cmd.exe finds it.
func TestSplitFirst(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, word, rest string }{
		{"hostname", "hostname", ""},
		{"  echo  two  spaces", "echo", " two  spaces"},
		{`"C:\Program Files\x.exe" /a`, `C:\Program Files\x.exe`, "/a"},
		{`"unterminated`, "unterminated", ""},
		{"tab\tsep", "tab", "sep"},
		{"", "", ""},
	}
	for _, tt := range tests {
		word, rest := splitFirst(tt.in)
		if word != tt.word || rest != tt.rest {
			t.Errorf("splitFirst(%q) = %q, %q; want %q, %q", tt.in, word, rest, tt.word, tt.rest)
		}
	}
}

// TestCommandKey ensures every spelling of a program finds it.
func TestCommandKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"hostname": "hostname", "HOSTNAME.EXE": "hostname", `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`: "powershell",
		`"more.com"`: "more", "run.cmd": "run", ".exe": ".exe", "a/b/tool.bat": "tool",
	} {
		if got := commandKey(in); got != want {
			t.Errorf("commandKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHandle ensures commands can be added, replaced and removed at run
// time, receive their command line, and that a panicking one is contained.
func TestHandle(t *testing.T) {
	t.Parallel()
	s := startServer(t, testFleet(1), Options{})
	seen := make(chan Cmd, 1)
	s.Handle("PowerShell.exe", func(_ context.Context, c *Cmd) int {
		seen <- Cmd{Line: c.Line, Name: c.Name, Args: c.Args, User: c.User, Domain: c.Domain}
		return 42
	})
	s.Handle("boom", func(context.Context, *Cmd) int { panic("bad script") })
	s.Handle("whoami", nil)
	c := newClient(t, s, "HOST-0001")
	tests := []struct {
		cmd        string
		wantStderr string
		wantCode   int
	}{
		{"powershell -NoProfile -EncodedCommand AAAA", "", 42},
		{"boom", "sim: command \"boom\" panicked: bad script\r\n", 1},
		{"whoami", "'whoami' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			_, stderr, code, err := runCmd(t, c, tt.cmd)
			if err != nil || stderr != tt.wantStderr || code != tt.wantCode {
				t.Errorf("run = (%q, %d, %v), want (%q, %d)", stderr, code, err, tt.wantStderr, tt.wantCode)
			}
		})
	}
	want := Cmd{Line: "powershell -NoProfile -EncodedCommand AAAA", Name: "powershell", Args: "-NoProfile -EncodedCommand AAAA",
		User: "Administrator", Domain: "CORP"}
	if got := <-seen; got != want {
		t.Errorf("Cmd = %+v, want %+v", got, want)
	}
}

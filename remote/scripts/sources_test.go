package scripts

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Vocabularies declared in Go, which the scripts must keep to.
var (
	kinds = set(KindFacts, KindCheck, KindService, KindHistory, KindRename, KindScan,
		KindEvidence, KindFolder, KindComputers, KindWarning, KindResult)
	statuses = set(StatusOK, StatusSkipped, StatusFailed, StatusRefused)
	reasons  = set(ReasonBadParams, ReasonBadPayload, ReasonUnexpected, ReasonIncomplete, ReasonConstrainedLanguage,
		ReasonNotAdmin, ReasonNot64Bit, ReasonPSTooOld, ReasonOSUnsupported, ReasonLowDisk,
		ReasonServiceMissing, ReasonServiceDisabled, ReasonInstallInProgress, ReasonRebootPending,
		ReasonHistoryUnreadable, ReasonStopFailed, ReasonStartTimeout, ReasonStartFailed,
		ReasonAbsent, ReasonTargetExists, ReasonRenameLocked, ReasonRenameFailed, ReasonScanFailed, ReasonScanRunning,
		ReasonWSUSAPIMissing, ReasonWSUSConnectFailed, ReasonWSUSQueryFailed, ReasonWSUSAccessDenied, ReasonWSUSTimeout)
	warnings = set(WarnOSUnreadable, WarnDiskUnreadable, WarnTrustedInstaller, WarnPendingFileRenames, WarnServiceNotStopped, WarnHistoryPageUnreadable,
		WarnHistoryEntryUnreadable, WarnHistoryUnreadable, WarnHotfixUnreadable, WarnSearchUnavailable,
		WarnScanWarnings, WarnScanDeadline, WarnTriggerMissing, WarnRemoveFailed,
		WarnComputerUnreadable, WarnGhostUpdate)
)

func set(vs ...string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

// TestSources ensures every script has the shape the bootstrap, the
// simulator and the security rules rely on.
func TestSources(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			src, err := Source(name)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(src, "\n")
			if lines[0] != scriptHeader+name {
				t.Errorf("line 1 = %q, want %q", lines[0], scriptHeader+name)
			}
			if n := strings.Count(src, scriptHeader); n != 1 {
				t.Errorf("%d %q lines, want 1", n, scriptHeader)
			}
			// param() must be the first statement: only comments before it.
			i := slices.Index(lines, "param([string]$ParamsB64)")
			if i < 0 {
				t.Fatal("no param([string]$ParamsB64) line")
			}
			for _, l := range lines[:i] {
				if !strings.HasPrefix(l, "#") {
					t.Errorf("statement before param(): %q", l)
				}
			}
			for _, want := range []string{
				"$P = Read-WsusfixParams $ParamsB64",
				"trap { Stop-WsusfixOnError $_ }",
				"$ErrorActionPreference = 'Stop'",
				"$ProgressPreference = 'SilentlyContinue'",
				"$WsusfixState.Step = '" + name + "'",
				"# Exit:",
			} {
				if !strings.Contains(src, want) {
					t.Errorf("missing %q", want)
				}
			}
			// Scripts end only through Complete-Wsusfix, which prints the
			// result line and maps the status to the exit code.
			if regexp.MustCompile(`(?mi)^\s*exit\b`).MatchString(src) {
				t.Error("calls exit directly; use Complete-Wsusfix")
			}
			if !strings.Contains(src, "Complete-Wsusfix -Status 'ok'") {
				t.Error("never completes with status ok")
			}
		})
	}
}

// TestSources_Text ensures every embedded file is ASCII with LF line ends,
// so the payload is the same bytes whatever code page the host uses.
func TestSources_Text(t *testing.T) {
	t.Parallel()
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(Names())+3 {
		t.Errorf("%d embedded files, want the %d scripts, the two prelude files and bootstrap.ps1", len(entries), len(Names()))
	}
	for _, e := range entries {
		text := mustRead(e.Name())
		for i, r := range text {
			if r > 0x7E || (r < 0x20 && r != '\n') {
				t.Errorf("%s: byte %d is %U; only printable ASCII and LF are allowed", e.Name(), i, r)
				break
			}
		}
		if !strings.HasSuffix(text, "\n") {
			t.Errorf("%s does not end with a line break", e.Name())
		}
	}
	for file, header := range map[string]string{
		"prelude.ps1":      "# wsusfix-prelude\n",
		"prelude-host.ps1": "# wsusfix-prelude: host\n",
		"bootstrap.ps1":    "# wsusfix-bootstrap\n",
	} {
		if !strings.HasPrefix(mustRead(file), header) {
			t.Errorf("%s does not start with %q", file, header)
		}
	}
}

// TestSources_Decode ensures parameters are decoded in the one documented
// way, and that no script ever turns text into code.
func TestSources_Decode(t *testing.T) {
	t.Parallel()
	if !strings.Contains(prelude, "[Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($ParamsB64)) | ConvertFrom-Json") {
		t.Error("the prelude does not decode base64 UTF-8 JSON")
	}
	// Data is never evaluated, and never sits in a double-quoted string,
	// where $() and backticks would expand.
	forbidden := regexp.MustCompile(`(?i)Invoke-Expression|\biex\b|ScriptBlock\]::Create|ExpandString|Add-Type|NewScriptBlock`)
	texts := map[string]string{"prelude": prelude}
	for _, name := range Names() {
		texts[name+".ps1"] = sources[name]
	}
	for file, text := range texts {
		if m := forbidden.FindString(text); m != "" {
			t.Errorf("%s contains %q", file, m)
		}
		for _, q := range doubleQuoted(text) {
			if strings.Contains(q, "$") {
				t.Errorf("%s expands a variable in a double-quoted string: %s", file, q)
			}
		}
	}
	// detect.ps1 runs its search on a runspace of its own, from a script
	// block literal of the same file; nothing else becomes code that way.
	all := prelude
	for _, name := range Names() {
		all += sources[name]
	}
	if got := regexp.MustCompile(`AddScript\([^)]*\)`).FindAllString(all, -1); !slices.Equal(got, []string{"AddScript($searchScript.ToString()"}) {
		t.Errorf("AddScript calls %q, want only detect.ps1's AddScript($searchScript.ToString())", got)
	}
	if !strings.Contains(sources[Detect], "$searchScript = {") {
		t.Error("detect.ps1's $searchScript is not a script block literal")
	}
	// Only the bootstrap creates a script block, from stdin.
	if n := strings.Count(bootstrapScript, "[ScriptBlock]::Create("); n != 1 {
		t.Errorf("bootstrap creates %d script blocks, want 1", n)
	}
}

// TestSources_Vocabulary ensures the kinds, statuses, reasons and warning
// codes the scripts print are the ones Go declares, and that each declared
// reason and warning code is printed somewhere.
func TestSources_Vocabulary(t *testing.T) {
	t.Parallel()
	all := prelude + bootstrapScript
	for _, name := range Names() {
		all += sources[name]
	}
	check := func(what, pattern string, known map[string]bool) {
		t.Helper()
		re := regexp.MustCompile(pattern)
		ms := re.FindAllStringSubmatch(all, -1)
		if len(ms) == 0 {
			t.Errorf("no %s found with %s", what, pattern)
		}
		for _, m := range ms {
			if !known[m[1]] {
				t.Errorf("%s %q is not declared in Go", what, m[1])
			}
		}
	}
	check("kind", `Write-WsusfixLine '([a-z_]+)'`, kinds)
	check("status", `-Status '([a-z_]+)'`, statuses)
	check("reason", `-Reason '([a-z_]+)'`, reasons)
	check("reason", `\$reason = '([a-z_]+)'`, reasons)
	check("warning code", `-Code '([a-z_]+)'`, warnings)
	for _, m := range []map[string]bool{reasons, warnings} {
		for v := range m {
			if !strings.Contains(all, "'"+v+"'") && !strings.Contains(all, `"`+v+`"`) {
				t.Errorf("%q is declared but no script uses it", v)
			}
		}
	}
}

// doubleQuoted returns the double-quoted strings of PowerShell text, quotes
// included. It knows just enough of the language for these scripts:
// comments to the end of the line, single-quoted strings with doubled
// quotes inside, and double-quoted strings with backtick escapes.
func doubleQuoted(text string) []string {
	var out []string
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '#':
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case '\'':
			for i++; i < len(text); i++ {
				if text[i] == '\'' {
					if i+1 < len(text) && text[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
		case '"':
			start := i
			for i++; i < len(text) && text[i] != '"'; i++ {
				if text[i] == '`' {
					i++
				}
			}
			out = append(out, text[start:min(i+1, len(text))])
		}
	}
	return out
}

// TestDoubleQuoted ensures the detector above sees through comments and
// single quotes, or TestSources_Decode would prove nothing.
func TestDoubleQuoted(t *testing.T) {
	t.Parallel()
	text := "$a = 'x\"y' # \"z\n$b = \"v `\" $c\"\n$d = 'it''s' + \"w\"\n"
	want := []string{"\"v `\" $c\"", "\"w\""}
	if got := doubleQuoted(text); !slices.Equal(got, want) {
		t.Errorf("doubleQuoted = %q, want %q", got, want)
	}
}

// TestSources_LineOffset ensures the prelude's last line measures what
// precedes a step's first line in the block the bootstrap runs, so an
// error names the line of the step's own .ps1 file.
func TestSources_LineOffset(t *testing.T) {
	t.Parallel()
	const measure = "try { throw 'line' } catch { $WsusfixState.LineOffset = [int]$_.InvocationInfo.ScriptLineNumber + 2 }"
	if !strings.HasSuffix(prelude, "\n"+measure+"\n") {
		t.Fatal("the prelude does not end with the line that measures it")
	}
	for _, name := range Names() {
		lines := strings.Split(blocks[name], "\n")
		at := slices.Index(lines, measure) + 1              // its line number in the block
		first := slices.Index(lines, scriptHeader+name) + 1 // the step's line 1
		if at <= 0 || first <= 0 || at+2 != first-1 {
			t.Errorf("%s: the measuring line is line %d and the script starts at line %d; the offset %d would be wrong",
				name, at, first, at+2)
		}
	}
}

// TestSources_HResult ensures HRESULTs of exceptions are read the way that
// works on .NET 4.0, where Exception.HResult is not public: only through
// Get-WsusfixHResult, which prefers COMException's ErrorCode.
func TestSources_HResult(t *testing.T) {
	t.Parallel()
	fn := prelude[strings.Index(prelude, "function Get-WsusfixHResult"):]
	fn = fn[:strings.Index(fn, "\n}\n")]
	if !strings.Contains(fn, "-is [System.Runtime.InteropServices.ExternalException]") || !strings.Contains(fn, "$Exception.ErrorCode") {
		t.Error("Get-WsusfixHResult does not read COMException.ErrorCode")
	}
	direct := regexp.MustCompile(`\$(ex|Exception|_\.Exception)\.HResult`)
	for file, text := range map[string]string{"prelude": prelude, "bootstrap": bootstrapScript} {
		if m := direct.FindString(text); m != "" {
			t.Errorf("%s reads %s, which is 0 on .NET 4.0", file, m)
		}
	}
	for _, name := range Names() {
		if m := direct.FindString(sources[name]); m != "" {
			t.Errorf("%s.ps1 reads %s, which is 0 on .NET 4.0", name, m)
		}
	}
}

// TestSources_DefinitionUpdates ensures verify.ps1 leaves out the same
// definition updates as DefinitionUpdate, which the procedure and the
// simulator use.
func TestSources_DefinitionUpdates(t *testing.T) {
	t.Parallel()
	src := sources[Verify]
	for _, kb := range DefinitionKBs {
		if !strings.Contains(src, "$Kb -eq '"+kb+"'") {
			t.Errorf("verify.ps1 does not treat %s as a definition update", kb)
		}
	}
	if !strings.Contains(src, "'"+definitionTitle.String()[len("(?i)"):]+"'") {
		t.Errorf("verify.ps1 does not match definition titles with %s", definitionTitle)
	}
	for _, c := range []struct {
		kb, title string
		want      bool
	}{
		{"KB2267602", "", true},
		{"kb2267602", "", true},
		{"", "Security Intelligence Update for Microsoft Defender Antivirus - KB2267602 (Version 1.421.1234.0)", true},
		{"KB5044281", "2024-10 Cumulative Update for Windows 11 Version 24H2 for x64-based Systems (KB5044281)", false},
	} {
		if got := DefinitionUpdate(c.kb, c.title); got != c.want {
			t.Errorf("DefinitionUpdate(%q, %q) = %v", c.kb, c.title, got)
		}
	}
}

// TestUpdateKind ensures UpdateKind drops what changes between releases and
// keeps what tells kinds apart, and that verify.ps1 strips the same parts.
func TestUpdateKind(t *testing.T) {
	t.Parallel()
	oct := UpdateKind("2024-10 Cumulative Update for Windows 11 Version 24H2 for x64-based Systems (KB5044284)")
	nov := UpdateKind("2024-11 Cumulative Update for Windows 11 Version 24H2 for x64-based Systems (KB5046617)")
	net := UpdateKind("2024-10 Cumulative Update for .NET Framework 3.5 and 4.8.1 for Windows 11, version 24H2 for x64 (KB5044033)")
	mrt := UpdateKind("Windows Malicious Software Removal Tool x64 - v5.128 (KB890830)")
	if oct != nov || oct != "cumulative update for windows 11 version 24h2 for x64-based systems" {
		t.Errorf("two months of one cumulative update: %q and %q", oct, nov)
	}
	if net == oct || mrt != "windows malicious software removal tool x64" {
		t.Errorf("kinds: .NET %q, MSRT %q", net, mrt)
	}
	for _, re := range []*regexp.Regexp{kindMonth, kindKB, kindVersion, kindV} {
		if !strings.Contains(sources[Verify], "'"+strings.TrimPrefix(re.String(), "(?i)")+"'") {
			t.Errorf("verify.ps1's Get-UpdateKind does not strip %s", re)
		}
	}
}

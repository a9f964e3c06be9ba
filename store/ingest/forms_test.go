package ingest

import (
	"strings"
	"testing"
	"time"

	"wsusfix/store/run"
)

// TestParseAddress ensures addresses and address:port pairs come back in
// canonical form and anything else is refused with what to write instead.
func TestParseAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, wantErr string
	}{
		{"", "", ""},
		{"10.1.2.3", "10.1.2.3", ""},
		{"10.1.2.3:5986", "10.1.2.3:5986", ""},
		{"fd00:0::5", "fd00::5", ""},
		{"[fd00::5]:5986", "[fd00::5]:5986", ""},
		{"10.0.0.300", "", "want an IP address or IP:port"},
		{"[fd00::5]", "", "want an IP address or IP:port"},
		{"pc1.corp:5986", "", "want an IP address or IP:port"},
		{"10.0.0.5:0", "", "port 0 cannot be dialled"},
	}
	for _, tt := range tests {
		got, err := parseAddress(tt.in)
		if got != tt.want || !errorHas(err, tt.wantErr) {
			t.Errorf("parseAddress(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestIsBuild ensures an OS build is digits separated by single dots.
func TestIsBuild(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"": true, "10": true, "10.0.26100.2894": true,
		"10.0.x": false, "10..0": false, ".10": false, "10.": false, "10 0": false, "١٠": false,
	} {
		if got := isBuild(in); got != want {
			t.Errorf("isBuild(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestParseKB ensures every accepted KB spelling is stored as KB followed
// by its digits, and other spellings are refused.
func TestParseKB(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"KB5034441", "KB5034441", true},
		{"kb5034441", "KB5034441", true},
		{"Kb123456", "KB123456", true},
		{"5034441", "KB5034441", true},
		{"12345678", "KB12345678", true},
		{"KB12345", "", false},
		{"KB123456789", "", false},
		{"Q123456", "", false},
		{"KB503.441", "", false},
		{"KB", "", false},
	}
	for _, tt := range tests {
		got, err := parseKB(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseKB(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "want KB followed by 6 to 8 digits") {
			t.Errorf("parseKB(%q) error %q does not say what to write", tt.in, err)
		}
	}
}

// TestParseTime ensures the three documented time forms are read as UTC
// and others refused.
func TestParseTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2024-05-14T09:30:00Z", time.Date(2024, 5, 14, 9, 30, 0, 0, time.UTC), true},
		{"2024-05-14T11:30:00+02:00", time.Date(2024, 5, 14, 9, 30, 0, 0, time.UTC), true},
		{"2024-05-14T09:30:00.25Z", time.Date(2024, 5, 14, 9, 30, 0, 250e6, time.UTC), true},
		{"2024-05-14 09:30:00", time.Date(2024, 5, 14, 9, 30, 0, 0, time.UTC), true},
		{"2024-05-14", time.Date(2024, 5, 14, 0, 0, 0, 0, time.UTC), true},
		{"2024-05-14T09:30:00", time.Time{}, false},
		{"14/05/2024", time.Time{}, false},
		{"yesterday", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.in)
		if !got.Equal(tt.want) || (err == nil) != tt.ok || (err == nil && got.Location() != time.UTC) {
			t.Errorf("parseTime(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "want RFC 3339 (2024-05-14T09:30:00Z)") {
			t.Errorf("parseTime(%q) error %q does not list the forms", tt.in, err)
		}
	}
}

// TestNames ensures operations and results are accepted in any case and as
// the Windows Update API's numbers, and stored under one name each.
func TestNames(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Installation": "Installation", "installation": "Installation", "1": "Installation",
		"UNINSTALLATION": "Uninstallation", "2": "Uninstallation", "Install": "", "0": "",
	} {
		if got := operationName(in); got != want {
			t.Errorf("operationName(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]run.UpdateResult{
		"InProgress": run.ResultInProgress, "1": run.ResultInProgress, "Succeeded": run.ResultSucceeded, "2": run.ResultSucceeded,
		"succeededwitherrors": run.ResultSucceededWithErrors, "3": run.ResultSucceededWithErrors, "FAILED": run.ResultFailed,
		"4": run.ResultFailed, "Aborted": run.ResultAborted, "5": run.ResultAborted, "Broken": "", "0": "", "6": "",
	} {
		if got := resultName(in); got != want {
			t.Errorf("resultName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCheckName ensures host-name refusals carry the column, the value and
// the store's reason, and names the store takes pass.
func TestCheckName(t *testing.T) {
	t.Parallel()
	tests := []struct{ column, in, want string }{
		{"name", "PC-1", ""},
		{"fqdn", "pc-1.corp.example", ""},
		{"name", "BAD HOST", `name "BAD HOST": has ' ': only letters, digits, hyphens and dots are allowed`},
		{"host", "", `host "": is empty`},
		{"fqdn", "pc2..corp", `fqdn "pc2..corp": has an empty label (two dots, or a dot at an end)`},
	}
	for _, tt := range tests {
		if err := checkName(tt.column, tt.in); !errorIs(err, tt.want) {
			t.Errorf("checkName(%q, %q) = %v, want %q", tt.column, tt.in, err, tt.want)
		}
	}
}

// errorHas reports whether err contains want, or is nil when want is empty.
func errorHas(err error, want string) bool {
	if want == "" {
		return err == nil
	}
	return err != nil && strings.Contains(err.Error(), want)
}

// errorIs reports whether err's text is want, or err is nil when want is
// empty.
func errorIs(err error, want string) bool {
	if want == "" {
		return err == nil
	}
	return err != nil && err.Error() == want
}

package hresult_test

import (
	"errors"
	"strings"
	"testing"

	"wsusfix/store/hresult"
)

// TestParse ensures every documented input form yields the same code.
func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want hresult.Code
	}{
		{"hex lower prefix", "0x80070002", 0x80070002},
		{"hex upper prefix", "0X80070002", 0x80070002},
		{"hex lower digits", "0x8007000d", 0x8007000D},
		{"hex short", "0x2", 2},
		{"hex leading zeros", "0x0000080070002", 0x80070002},
		{"bare 8 hex digits", "80070002", 0x80070002},
		{"bare 8 hex digits with letters", "8024402f", 0x8024402F},
		{"signed decimal", "-2147024894", 0x80070002},
		{"signed decimal min", "-2147483648", 0x80000000},
		{"unsigned decimal", "2147942402", 0x80070002},
		{"unsigned decimal max", "4294967295", 0xFFFFFFFF},
		{"wusa success decimal", "2359302", 0x00240006},
		{"zero", "0", 0},
		{"surrounding spaces", "  0x80070003 \t\n", 0x80070003},
		{"spaces around decimal", " -2147024893 ", 0x80070003},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := hresult.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Parse(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestParse_invalid ensures bad input is rejected with a message that says
// what was wrong and which forms are accepted.
func TestParse_invalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		in         string
		wantReason string
	}{
		{"empty", "", "empty"},
		{"only spaces", "   ", "empty"},
		{"garbage", "not a code", "not a number"},
		{"prefix only", "0x", "not a number"},
		{"bad hex digit", "0x8007000G", "not a number"},
		{"negative hex", "0x-1", "not a number"},
		{"plus sign", "+2147942402", "not a number"},
		{"inner space", "0x8007 0002", "not a number"},
		{"seven hex digits with letters", "800700D", "not a number"},
		{"hex too large", "0x180070002", "out of the 32-bit range"},
		{"unsigned too large", "4294967296", "out of the 32-bit range"},
		{"signed too small", "-2147483649", "out of the 32-bit range"},
		{"minus only", "-", "not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := hresult.Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error", tt.in, got)
			}
			if !errors.Is(err, hresult.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "hresult: ") {
				t.Errorf("message %q lacks the package prefix", msg)
			}
			if !strings.Contains(msg, tt.wantReason) {
				t.Errorf("message %q does not say %q", msg, tt.wantReason)
			}
			for _, form := range []string{"0x80070002", "80070002", "-2147024894", "2147942402"} {
				if !strings.Contains(msg, form) {
					t.Errorf("message %q does not list accepted form %s", msg, form)
				}
			}
			if strings.ContainsAny(msg[len(msg)-1:], ".!?;:") {
				t.Errorf("message %q ends with punctuation", msg)
			}
		})
	}
}

// TestCode_String ensures the canonical format and that it parses back.
func TestCode_String(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code hresult.Code
		want string
	}{
		{0, "0x00000000"},
		{0x80070002, "0x80070002"},
		{0x8024402f, "0x8024402F"},
		{0x00240006, "0x00240006"},
		{0xFFFFFFFF, "0xFFFFFFFF"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.code.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			back, err := hresult.Parse(tt.code.String())
			if err != nil || back != tt.code {
				t.Errorf("Parse(String()) = %v, %v; want %v", back, err, tt.code)
			}
		})
	}
}

// TestCode_Facility ensures the facility field is extracted as winerror.h does.
func TestCode_Facility(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code hresult.Code
		want uint16
	}{
		{0x80070002, 7},
		{0x80244022, 0x24},
		{0x800F0922, 0xF},
		{0x80200053, 0x20},
		{0x80D02002, 0xD0},
		{0xC1900101, 0x190},
		{0x00240005, 0x24},
		{0xFFFFFFFF, 0x1FFF},
	}
	for _, tt := range tests {
		t.Run(tt.code.String(), func(t *testing.T) {
			if got := tt.code.Facility(); got != tt.want {
				t.Errorf("Facility() = %#x, want %#x", got, tt.want)
			}
		})
	}
}

// TestCatalogue ensures the catalogue is large enough, sorted, free of
// duplicates and complete in every entry, and that Decode returns its entries.
func TestCatalogue(t *testing.T) {
	t.Parallel()
	cat := hresult.Catalogue()
	if len(cat) < 70 {
		t.Errorf("catalogue has %d codes, want at least 70", len(cat))
	}
	for i, info := range cat {
		if i > 0 && cat[i-1].Code >= info.Code {
			t.Errorf("entry %d (%v) is not after %v: duplicate or unsorted", i, info.Code, cat[i-1].Code)
		}
		if info.Symbol == "" || info.Meaning == "" || info.Action == "" || info.Category == "" {
			t.Errorf("%v has an empty field: %+v", info.Code, info)
		}
		if !info.Known {
			t.Errorf("%v: Known = false in the catalogue", info.Code)
		}
		if got := hresult.Decode(info.Code); got != info {
			t.Errorf("Decode(%v) = %+v, want catalogue entry %+v", info.Code, got, info)
		}
	}
	cat[0].Symbol = "changed"
	if hresult.Catalogue()[0].Symbol == "changed" {
		t.Error("Catalogue returned shared storage")
	}
}

// TestDecode_domainTable ensures every code of the helpdesk table in the
// domain notes is catalogued.
func TestDecode_domainTable(t *testing.T) {
	t.Parallel()
	codes := []hresult.Code{
		0x80070002, 0x80070003, 0x80070005, 0x8007000D, 0x8007000E, 0x80070020,
		0x80070070, 0x80070422, 0x80070490, 0x80070570, 0x800705B4, 0x80070643,
		0x80070BC9, 0x80073701, 0x80073712, 0x8007371B, 0x8007045B, 0x80072EE2,
		0x80072EE7, 0x80072EFD, 0x80072EFE, 0x80072F8F, 0x80092004, 0x80240016,
		0x80240017, 0x8024001E, 0x80240020, 0x80240022, 0x8024002E, 0x80240034,
		0x80242006, 0x8024200D, 0x80242014, 0x80242016, 0x80244007, 0x80244010,
		0x80244011, 0x80244017, 0x80244018, 0x80244019, 0x8024401B, 0x8024401C,
		0x8024401F, 0x80244022, 0x8024402C, 0x8024402F, 0x80246002, 0x80246007,
		0x80246008, 0x80248007, 0x8024A000, 0x8024A10A, 0x8024A105, 0x8024D009,
		0x800F081F, 0x800F0821, 0x800F0920, 0x800F0831, 0x800F0922, 0x80200053,
		0x80D02002,
	}
	for _, c := range codes {
		if !hresult.Decode(c).Known {
			t.Errorf("%v is not catalogued", c)
		}
	}
}

// TestDecode_repairApplies ensures the KB 910336 repair is offered only where
// it fixes the failure.
func TestDecode_repairApplies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code hresult.Code
		want bool
	}{
		{0x80070002, true},
		{0x80070003, true},
		{0x8007000D, true},
		{0x8024200D, true},
		{0x80246002, true},
		{0x80248007, true},
		{0x80248099, true}, // data store range, not catalogued
		{0x80240034, true},
		{0x80244022, false},
		{0x80073712, false},
		{0x80070643, false},
		{0x800F0922, false},
		{0x8024002E, false},
		{0x80072EFD, false},
	}
	for _, tt := range tests {
		t.Run(tt.code.String(), func(t *testing.T) {
			if got := hresult.Decode(tt.code).RepairApplies; got != tt.want {
				t.Errorf("RepairApplies = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDecode_unknown ensures codes outside the catalogue are described by
// facility and sub-range, with words rather than the bare number.
func TestDecode_unknown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		code         hresult.Code
		wantSymbol   string
		wantCategory string
		wantMeaning  string
	}{
		{"win32 from table", 0x80070426, "ERROR_SERVICE_NOT_ACTIVE", "Services", "not been started"},
		{"win32 wininet", 0x80072F7D, "ERROR_INTERNET_SECURITY_CHANNEL_ERROR", "Certificates / signatures", "TLS"},
		{"win32 unknown number", 0x80071234, "Win32 error 4660", "Other", "system error 4660"},
		{"plain win32 number", 1603, "ERROR_INSTALL_FAILURE", "Installer (MSI)", "Windows Installer"},
		{"wu inventory", 0x80249999, "WU_E_INVENTORY_* (inventory)", "Other", "inventory"},
		{"wu protocol talker", 0x80244099, "WU_E_PT_* (protocol talker)", "Network / proxy", "update server"},
		{"wu web service", 0x80240499, "WU_E_PT_* (web service)", "Network / proxy", "update service"},
		{"wu data store", 0x80248099, "WU_E_DS_* (data store)", "Update database", "DataStore"},
		{"wu orchestrator", 0x8024A1FF, "USO_E_* (Update Orchestrator)", "Services", "Orchestrator"},
		{"wu drivers", 0x8024C0FF, "WU_E_DRV_* (drivers)", "Drivers", "driver"},
		{"wu success", 0x00240009, "WU_S_* (success with information)", "Success", "finished"},
		{"cbs", 0x800F9999, "CBS_E_* (servicing stack)", "Servicing stack", "servicing stack"},
		{"psfx", 0x800F0989, "PSFX_E_* (delta patching)", "Component store", "delta"},
		{"setupapi", 0x800F0203, "SPAPI_E_* (device installation)", "Drivers", "driver"},
		{"bits", 0x8020FFFF, "BG_E_* (BITS)", "Network / proxy", "BITS"},
		{"http status", 0x80190194, "HTTP_E_STATUS_* (HTTP 404)", "WSUS server", "Not Found"},
		{"delivery optimization", 0x80D05001, "DO_E_* (Delivery Optimization)", "Network / proxy", "Delivery Optimization"},
		{"certificate", 0x800B010F, "CERT_E_* / TRUST_E_* (certificate trust)", "Certificates / signatures", "certificate"},
		{"feature update", 0xC1900101, "Windows Setup error (feature update)", "Feature update", "feature update"},
		{"generic success", 0x12345678, "Success code (facility 0x1234)", "Success", "success"},
		{"generic failure", 0xDEADBEEF, "Unrecognised error (facility 0x1EAD)", "Other", "no description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hresult.Decode(tt.code)
			if got.Known {
				t.Errorf("Known = true for uncatalogued %v", tt.code)
			}
			if got.Code != tt.code {
				t.Errorf("Code = %v, want %v", got.Code, tt.code)
			}
			if got.Symbol != tt.wantSymbol {
				t.Errorf("Symbol = %q, want %q", got.Symbol, tt.wantSymbol)
			}
			if got.Category != tt.wantCategory {
				t.Errorf("Category = %q, want %q", got.Category, tt.wantCategory)
			}
			if !strings.Contains(got.Meaning, tt.wantMeaning) {
				t.Errorf("Meaning = %q, want it to mention %q", got.Meaning, tt.wantMeaning)
			}
			if got.Action == "" {
				t.Error("Action is empty")
			}
		})
	}
}

// TestDecode_success ensures code 0 decodes as success.
func TestDecode_success(t *testing.T) {
	t.Parallel()
	got := hresult.Decode(0)
	if got.Symbol != "S_OK" || got.Category != "Success" || got.RepairApplies || !got.Known {
		t.Errorf("Decode(0) = %+v, want S_OK in category Success", got)
	}
}

// TestDecode_complete ensures that any code, known or not, decodes to a full
// description whose meaning is a sentence, not the number itself.
func TestDecode_complete(t *testing.T) {
	t.Parallel()
	lows := []uint32{0x0000, 0x0001, 0x0002, 0x0426, 0x04FF, 0x0982, 0x1000, 0x2EE2, 0x7FFF, 0x8007, 0xA1FF, 0xFFFF}
	for facility := uint32(0); facility <= 0x1FFF; facility += 0x11 {
		for _, sev := range []uint32{0, 0x80000000, 0xC0000000} {
			for _, low := range lows {
				c := hresult.Code(sev | facility<<16 | low)
				info := hresult.Decode(c)
				if info.Symbol == "" || info.Action == "" || info.Category == "" {
					t.Fatalf("Decode(%v) has an empty field: %+v", c, info)
				}
				if len(strings.Fields(info.Meaning)) < 4 || strings.Contains(info.Meaning, c.String()) {
					t.Fatalf("Decode(%v).Meaning = %q, want a sentence", c, info.Meaning)
				}
			}
		}
	}
}

// FuzzParse ensures Parse never panics and that every code it accepts
// survives a round trip through String.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"0x80070002", "0X80070002", "80070002", "-2147024894", "2147942402", "0",
		" 0x8024402F ", "", "0x", "-", "4294967296", "0xFFFFFFFF", "zz", "+1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := hresult.Parse(s)
		if err != nil {
			if !errors.Is(err, hresult.ErrInvalid) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		back, err := hresult.Parse(c.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %v, but Parse(%q) failed: %v", s, c, c.String(), err)
		}
		if back != c {
			t.Fatalf("round trip of %q: %v became %v", s, c, back)
		}
		_ = hresult.Decode(c)
	})
}

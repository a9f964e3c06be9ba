package ingest

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"wsusfix/store"
)

// checkName refuses a value of column that store.ValidateHostName refuses,
// with the store's reason after the column and the value.
func checkName(column, s string) error {
	err := store.ValidateHostName(s)
	if err == nil {
		return nil // errors.As moves its target to the heap: not for every name
	}
	var he *store.HostNameError
	if errors.As(err, &he) {
		return fmt.Errorf("%s %q: %s", column, s, he.Reason)
	}
	return err
}

// parseAddress accepts an IP address or IP:port (IPv6 with a port in
// brackets) and returns its canonical form; empty stays empty.
func parseAddress(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String(), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return "", errors.New("want an IP address or IP:port, such as 10.1.2.3, 10.1.2.3:5986 or [fd00::5]:5986")
	}
	if ap.Port() == 0 {
		return "", errors.New("port 0 cannot be dialled")
	}
	return ap.String(), nil
}

// isBuild reports whether s is empty or digits separated by single dots.
func isBuild(s string) bool {
	if s == "" {
		return true
	}
	for part := range strings.SplitSeq(s, ".") {
		if part == "" || !isDigits(part) {
			return false
		}
	}
	return true
}

// isDigits reports whether s is all ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseKB accepts KB1234567, kb1234567 or 1234567 (6 to 8 digits) and
// returns "KB1234567"; empty stays empty.
func parseKB(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	digits := s
	if len(s) >= 2 && strings.EqualFold(s[:2], "KB") {
		digits = s[2:]
	}
	if len(digits) < 6 || len(digits) > 8 || !isDigits(digits) {
		return "", errors.New("want KB followed by 6 to 8 digits, such as KB5034441")
	}
	if len(s) == len(digits)+2 && s[:2] == "KB" {
		return s, nil // already normal: no allocation
	}
	return "KB" + digits, nil
}

// parseTime accepts RFC 3339, "2006-01-02 15:04:05" (UTC) and "2006-01-02"
// (UTC midnight). It picks the layout by shape, so the common case costs
// one parse.
func parseTime(s string) (time.Time, error) {
	layout := time.RFC3339Nano
	switch {
	case len(s) == len(time.DateOnly):
		layout = time.DateOnly
	case len(s) > 10 && s[10] == ' ':
		layout = time.DateTime
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, errors.New("want RFC 3339 (2024-05-14T09:30:00Z), 2024-05-14 09:30:00 (UTC) or 2024-05-14")
	}
	return t.UTC(), nil
}

// ErrInvalidHResult is wrapped by every error ParseHResult returns.
var ErrInvalidHResult = errors.New("hresult: invalid code")

// hresultForms ends every ParseHResult error, so a person learns what to
// write instead.
const hresultForms = "accepted forms: 0x80070002, 80070002 (8 hex digits), -2147024894 or 2147942402"

// ParseHResult reads an HRESULT in the forms Windows Update tools print:
// 0x followed by 1 to 8 hex digits ("0x80070002"), exactly 8 hex digits
// ("80070002", hex even when every digit is decimal, as WindowsUpdate.log
// writes it), signed decimal ("-2147024894") or unsigned decimal
// ("2147942402"), surrounded by any spaces. Anything else is an error
// wrapping ErrInvalidHResult that says what is wrong and lists the forms.
func ParseHResult(s string) (uint32, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("%w: input is empty; %s", ErrInvalidHResult, hresultForms)
	}
	var (
		v   uint64
		err error
	)
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		v, err = strconv.ParseUint(s[2:], 16, 32)
	case len(s) == 8 && isHex(s):
		v, err = strconv.ParseUint(s, 16, 32)
	case s[0] == '-':
		var n int64
		n, err = strconv.ParseInt(s, 10, 32)
		v = uint64(uint32(int32(n)))
	default:
		v, err = strconv.ParseUint(s, 10, 32)
	}
	if err != nil {
		why := "is not a number in any accepted form"
		if errors.Is(err, strconv.ErrRange) {
			why = "is out of the 32-bit range"
		}
		if len(s) > 40 {
			s = s[:40] + "..." // a pasted log line
		}
		return 0, fmt.Errorf("%w: %q %s; %s", ErrInvalidHResult, s, why, hresultForms)
	}
	return uint32(v), nil
}

// isHex reports whether s is all ASCII hex digits.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// operationName returns the stored name of an operation spelt s in any
// case, or as the Windows Update API's UpdateOperation number; "" for
// anything else.
func operationName(s string) string {
	switch {
	case s == "1" || strings.EqualFold(s, "Installation"):
		return "Installation"
	case s == "2" || strings.EqualFold(s, "Uninstallation"):
		return "Uninstallation"
	}
	return ""
}

// resultName returns the stored name of a result spelt s in any case, or
// as the Windows Update API's OperationResultCode number; "" for anything
// else.
func resultName(s string) string {
	for _, r := range [...]struct{ code, name string }{
		{"2", "Succeeded"}, {"4", "Failed"}, {"3", "SucceededWithErrors"}, {"5", "Aborted"}, {"1", "InProgress"},
	} {
		if s == r.code || strings.EqualFold(s, r.name) {
			return r.name
		}
	}
	return ""
}

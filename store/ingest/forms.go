package ingest

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"wsusfix/store"
	"wsusfix/store/run"
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
func resultName(s string) run.UpdateResult {
	// run.UpdateResults is in the order of the codes, from 1.
	for i, r := range run.UpdateResults {
		if s == strconv.Itoa(i+1) || strings.EqualFold(s, string(r)) {
			return r
		}
	}
	return ""
}

// Package hresult decodes Windows Update result codes (HRESULTs) into what a
// helpdesk person needs: the symbol, a plain-language meaning, a concrete next
// action, a category, and whether the KB 910336 repair (reset
// SoftwareDistribution) is the right fix.
//
// It owns the catalogue of known codes and the rules that describe unknown
// codes by facility and sub-range. It performs no I/O and holds no mutable
// state, so every function is safe for concurrent use.
package hresult

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Code is an HRESULT as an unsigned 32-bit value.
type Code uint32

// ErrInvalid is wrapped by every error Parse returns, so callers can tell a
// bad code apart from other failures with errors.Is.
var ErrInvalid = errors.New("hresult: invalid code")

// acceptedForms ends every Parse error so the user learns what to type.
const acceptedForms = "accepted forms: 0x80070002, 80070002 (8 hex digits), -2147024894 or 2147942402"

// Parse reads an HRESULT in any form a WSUS console, WUA, WUSA, a log or a
// script prints: "0x80070002" or "0X80070002" (1 to 8 hex digits), exactly 8
// hex digits without a prefix ("80070002", always read as hex), signed decimal
// ("-2147024894") and unsigned decimal ("2147942402"). Surrounding spaces are
// ignored and "0" is success. Any other input returns an error wrapping
// ErrInvalid that says what was wrong and lists the accepted forms.
func Parse(s string) (Code, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("%w: input is empty; %s", ErrInvalid, acceptedForms)
	}
	var (
		v   uint64
		err error
	)
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		v, err = strconv.ParseUint(s[2:], 16, 32)
	case len(s) == 8 && isHex(s):
		// A bare 8-digit value is how WindowsUpdate.log and many tools print
		// an HRESULT; read it as hex even when every digit is decimal.
		v, err = strconv.ParseUint(s, 16, 32)
	case s[0] == '-':
		var n int64
		n, err = strconv.ParseInt(s, 10, 32)
		v = uint64(uint32(int32(n)))
	default:
		v, err = strconv.ParseUint(s, 10, 32)
	}
	if err != nil {
		reason := "is not a number in any accepted form"
		if errors.Is(err, strconv.ErrRange) {
			reason = "is out of the 32-bit range"
		}
		return 0, fmt.Errorf("%w: %q %s; %s", ErrInvalid, clip(s), reason, acceptedForms)
	}
	return Code(v), nil
}

// String formats c as "0x" followed by exactly 8 upper-case hex digits, the
// form Microsoft's documentation uses, for example "0x80070002".
func (c Code) String() string {
	return fmt.Sprintf("0x%08X", uint32(c))
}

// Facility returns the facility field of c: (c >> 16) & 0x1FFF. For example 7
// is Win32, 0x24 is Windows Update and 0xF is the servicing stack (CBS).
func (c Code) Facility() uint16 {
	return uint16(c>>16) & 0x1FFF
}

// failed reports whether the severity bit of c is set.
func (c Code) failed() bool { return c&0x80000000 != 0 }

// low returns the code field of c, the low 16 bits.
func (c Code) low() uint16 { return uint16(c) }

// Info is what the dashboard shows about a code.
type Info struct {
	Code Code
	// Symbol is the header name, such as "ERROR_FILE_NOT_FOUND"; for unknown
	// codes it is a derived label such as "Win32 error 1234" or
	// "WU_E_PT_* (protocol talker)".
	Symbol string
	// Meaning is one plain-language sentence a helpdesk person understands.
	Meaning string
	// Action is the suggested next step, one or two concrete sentences.
	Action string
	// Category is a short grouping label such as "Network / proxy" or
	// "Component store", used to group and filter failures.
	Category string
	// RepairApplies is true when the KB 910336 repair (reset
	// SoftwareDistribution) is the right fix.
	RepairApplies bool
	// Known is true when the code is in the catalogue and false when it was
	// described by its facility and sub-range only.
	Known bool
}

// index maps each catalogued code to its position in catalogue.
var index = func() map[Code]int {
	m := make(map[Code]int, len(catalogue))
	for i, e := range catalogue {
		m[e.code] = i
	}
	return m
}()

// Decode describes c. It never fails: catalogued codes come from the
// catalogue, Code 0 is success, and any other code is described by its
// facility and sub-range (Win32, Windows Update, CBS, BITS, HTTP, Delivery
// Optimization, certificates, Windows Setup), with Known set to false.
func Decode(c Code) Info {
	if i, ok := index[c]; ok {
		return catalogue[i].info()
	}
	return describe(c)
}

// Catalogue returns every known code, sorted by Code. The caller owns the
// returned slice.
func Catalogue() []Info {
	out := make([]Info, 0, len(catalogue))
	for _, e := range catalogue {
		out = append(out, e.info())
	}
	slices.SortFunc(out, func(a, b Info) int {
		switch {
		case a.Code < b.Code:
			return -1
		case a.Code > b.Code:
			return 1
		}
		return 0
	})
	return out
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// clip shortens s so that a pasted log line does not flood an error message.
func clip(s string) string {
	const limit = 40
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}

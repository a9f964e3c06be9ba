package handlers

import (
	"wsusfix/store/hresult"
	"wsusfix/views"
)

// decode turns a stored HRESULT into what the pages show.
func decode(code uint32) views.ErrorInfo {
	in := hresult.Decode(hresult.Code(code))
	return views.ErrorInfo{
		Code:          in.Code.String(),
		Symbol:        in.Symbol,
		Meaning:       in.Meaning,
		Action:        in.Action,
		Category:      in.Category,
		RepairApplies: in.RepairApplies,
	}
}

// decodeMemo decodes each code once: an export lists a few codes across
// thousands of rows.
type decodeMemo map[uint32]views.ErrorInfo

// decode is decode(code), from the memo after the first time.
func (m decodeMemo) decode(code uint32) views.ErrorInfo {
	d, ok := m[code]
	if !ok {
		d = decode(code)
		m[code] = d
	}
	return d
}

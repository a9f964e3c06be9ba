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

package remote

// Procedures.
const (
	ProcedureRepair = "repair"
	ProcedureCheck  = "check"
)

// Step names, in the order a repair runs them. "connect" opens the remote
// shell; the others are scripts of remote/scripts.
const (
	StepConnect       = "connect"
	StepPreflight     = "preflight"
	StepSaveHistory   = "save-history"
	StepStopServices  = "stop-services"
	StepRename        = "rename"
	StepStartServices = "start-services"
	StepDetect        = "detect"
	StepVerify        = "verify"
	StepCleanup       = "cleanup"
)

// Steps lists a procedure's steps in order; check mode runs only those
// that change nothing on the host.
func Steps(procedure string) []string {
	if procedure == ProcedureCheck {
		return []string{StepConnect, StepPreflight, StepSaveHistory}
	}
	return []string{StepConnect, StepPreflight, StepSaveHistory, StepStopServices, StepRename,
		StepStartServices, StepDetect, StepVerify, StepCleanup}
}

package scripts

// Reason codes, in Result.Reason and Check.Reason. They are stable
// identifiers for the procedure and the pages; the message beside them is
// for people.
const (
	// Any script.
	ReasonBadParams  = "bad_params"       // the parameters were not valid (ExitBadParams)
	ReasonBadPayload = "bad_payload"      // the bootstrap got no script on stdin (ExitBadParams)
	ReasonUnexpected = "unexpected_error" // an error the script did not handle (ExitUnexpected)
	// ReasonConstrainedLanguage is the bootstrap refusing a host whose
	// PowerShell runs in Constrained Language Mode (ExitRefused).
	ReasonConstrainedLanguage = "constrained_language"
	ReasonIncomplete          = "incomplete" // cleanup: done with warnings (still StatusOK)
	// ReasonNoResult is the procedure's, not a script's: the step's command
	// ended without the step's own result line, whatever its exit code.
	ReasonNoResult = "no_result"

	// preflight: why the host is refused.
	ReasonNotAdmin          = "not_admin"
	ReasonNot64Bit          = "not_64bit"
	ReasonPSTooOld          = "ps_too_old" // also from the bootstrap on PowerShell 2.0
	ReasonOSUnsupported     = "os_unsupported"
	ReasonLowDisk           = "low_disk"
	ReasonServiceMissing    = "service_missing"
	ReasonServiceDisabled   = "service_disabled" // also start-services
	ReasonInstallInProgress = "install_in_progress"
	ReasonRebootPending     = "reboot_pending"

	// save-history and verify.
	ReasonHistoryUnreadable = "history_unreadable"

	// stop-services and start-services.
	ReasonStopFailed   = "stop_failed"
	ReasonStartTimeout = "start_timeout"
	ReasonStartFailed  = "start_failed"

	// rename.
	ReasonAbsent       = "absent" // StatusSkipped: no SoftwareDistribution folder
	ReasonTargetExists = "target_exists"
	ReasonRenameLocked = "rename_locked"
	ReasonRenameFailed = "rename_failed"

	// detect.
	ReasonScanFailed  = "scan_failed"
	ReasonScanRunning = "scan_running" // StatusOK: the search was still running at the deadline

	// wsus-inventory.
	ReasonWSUSAPIMissing    = "wsus_api_missing"
	ReasonWSUSConnectFailed = "wsus_connect_failed"
	ReasonWSUSQueryFailed   = "wsus_query_failed"
	// wsus-inventory: the account is in neither WSUS Administrators nor
	// WSUS Reporters, or the API's fixed SQL command timeout ran out.
	ReasonWSUSAccessDenied = "wsus_access_denied"
	ReasonWSUSTimeout      = "wsus_timeout"
)

// Warning codes, in Warning.Code.
const (
	WarnOSUnreadable           = "os_unreadable"            // preflight: Win32_OperatingSystem
	WarnDiskUnreadable         = "disk_unreadable"          // preflight: free space
	WarnTrustedInstaller       = "trustedinstaller_running" // preflight: TrustedInstaller runs, nothing installs
	WarnPendingFileRenames     = "pending_file_renames"     // preflight: PendingFileRenameOperations alone
	WarnHistoryPageUnreadable  = "history_page_unreadable"  // save-history: a page was skipped
	WarnHistoryEntryUnreadable = "history_entry_unreadable" // save-history, verify: an entry was skipped
	WarnHistoryUnreadable      = "history_unreadable"       // verify: no history evidence
	WarnHotfixUnreadable       = "hotfix_unreadable"        // verify: no Get-HotFix evidence
	WarnSearchUnavailable      = "search_unavailable"       // verify: no download evidence
	WarnServiceNotStopped      = "service_not_stopped"      // stop-services: a best-effort service still runs
	WarnScanWarnings           = "scan_warnings"            // detect: the search succeeded with errors
	WarnScanDeadline           = "scan_deadline"            // detect: retries stopped at the deadline
	WarnTriggerMissing         = "trigger_missing"          // detect: UsoClient/wuauclt not found
	WarnRemoveFailed           = "remove_failed"            // cleanup: a backup was not removed
	WarnComputerUnreadable     = "computer_unreadable"      // wsus-inventory: a computer was skipped
	WarnGhostUpdate            = "ghost_update"             // wsus-inventory: an update missing from the WSUS database was skipped
)

// ConstrainedLanguageMessage is the message of the bootstrap's refusal of a
// host in Constrained Language Mode, as bootstrap.ps1 prints it.
const ConstrainedLanguageMessage = "PowerShell runs in Constrained Language Mode on this host: an application control policy " +
	"(WDAC or AppLocker) limits it, and the repair needs full language"

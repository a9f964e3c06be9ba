package hresult

import (
	"fmt"
	"net/http"
)

// Facilities this package knows how to describe (winerror.h and the
// component headers).
const (
	facilitySecurity   = 0x9   // CRYPT_E_*, SEC_E_*
	facilityCert       = 0xB   // CERT_E_*, TRUST_E_*
	facilitySetupAPI   = 0xF   // CBS_E_*, PSFX_E_*, SPAPI_E_*
	facilityWin32      = 0x7   // HRESULT_FROM_WIN32
	facilityHTTP       = 0x19  // HTTP_E_STATUS_*, BG_E_HTTP_ERROR_*
	facilityBITS       = 0x20  // BG_E_*
	facilityWU         = 0x24  // WU_E_*, WU_S_*
	facilityDO         = 0xD0  // DO_E_*
	facilityFeatureUpd = 0x190 // Windows Setup, 0xC190xxxx
)

// defaultAction is the suggested action for a code described only by its
// category.
var defaultAction = map[string]string{
	catDownload:      kb910336,
	catDatabase:      "Run the KB 910336 repair; it resets the DataStore along with the download cache.",
	catNetwork:       proxyCheck,
	catServer:        wsusCheck,
	catStore:         dismSFC,
	catStack:         `Read C:\Windows\Logs\CBS\CBS.log for the failing step, install the latest servicing stack update, and run DISM /Online /Cleanup-Image /RestoreHealth.`,
	catDisk:          "Free at least 10 GB on the system drive and retry.",
	catServices:      "Check that wuauserv, BITS and CryptSvc can start (not disabled by policy), restart them, and retry.",
	catReboot:        rebootAction,
	catPolicy:        "Check the Windows Update group policy for this computer; this is configuration, not a broken client.",
	catPermissions:   "Check file and registry permissions and antivirus exclusions for the Windows Update folders, then retry.",
	catInstaller:     "Read the product's MSI log and repair or reinstall the product; resetting SoftwareDistribution does not help.",
	catTrust:         "Check the computer clock and time sync, and that root and WSUS certificates are installed and valid.",
	catBusy:          "Wait for the other operation or restart to finish, then retry.",
	catResources:     "Restart the computer to free resources and retry; check memory and CPU load.",
	catDrivers:       "Check the device in Device Manager and setupapi.dev.log; decline the driver in WSUS if it is not needed.",
	catFeatureUpdate: "Run SetupDiag on the computer and read the Panther setup logs; resetting SoftwareDistribution rarely helps.",
	catNotApplicable: "No repair needed; check in WSUS whether the update is superseded or meant for other systems.",
	catSuccess:       "No action needed.",
	catOther:         "Read WindowsUpdate.log (Get-WindowsUpdateLog) around the failure time for the underlying cause, then retry detection.",
}

// describe decodes a code that is not in the catalogue.
func describe(c Code) Info {
	info := rule(c)
	info.Code = c
	if info.Action == "" {
		info.Action = defaultAction[info.Category]
	}
	return info
}

func rule(c Code) Info {
	f := c.Facility()
	switch {
	case c == 1:
		return Info{Symbol: "S_FALSE", Category: catSuccess,
			Meaning: "The operation completed but reported a negative or partial answer."}
	case c < 0x10000:
		// WUSA, msiexec and scripts report plain Win32 numbers such as 3010
		// or 1603 that arrive here without the 0x8007 wrapper.
		if _, ok := win32Errors[c.low()]; ok {
			return win32(c.low())
		}
	case !c.failed() && f == facilityWU:
		return Info{Symbol: "WU_S_* (success with information)", Category: catSuccess,
			Meaning: fmt.Sprintf("Windows Update finished the operation and added extra information (code 0x%04X).", c.low())}
	case !c.failed():
		// Severity clear: a success code.
	case f == facilityWin32:
		return win32(c.low())
	case f == facilityWU:
		return windowsUpdate(c)
	case f == facilitySetupAPI:
		return servicing(c.low())
	case f == facilityBITS:
		return Info{Symbol: "BG_E_* (BITS)", Category: catNetwork,
			Meaning: "The Background Intelligent Transfer Service (BITS) failed to download update files.",
			Action:  "Check that BITS is running, list its jobs with bitsadmin /list /allusers /verbose, and check the proxy."}
	case f == facilityHTTP:
		return httpStatus(int(c.low()))
	case f == facilityDO:
		return Info{Symbol: "DO_E_* (Delivery Optimization)", Category: catNetwork,
			Meaning: "Delivery Optimization failed to download update content.",
			Action:  "Check firewall and proxy rules for the download source and the Delivery Optimization policy (DODownloadMode)."}
	case f == facilityCert:
		return Info{Symbol: "CERT_E_* / TRUST_E_* (certificate trust)", Category: catTrust,
			Meaning: "A certificate or signature check failed while verifying an update or the server."}
	case f == facilitySecurity:
		return Info{Symbol: "CRYPT_E_* / SEC_E_* (cryptography)", Category: catTrust,
			Meaning: "A cryptography or secure-connection check failed while verifying an update or the server."}
	case f == facilityFeatureUpd:
		return Info{Symbol: "Windows Setup error (feature update)", Category: catFeatureUpdate,
			Meaning: "A Windows feature update (in-place upgrade) failed inside Windows Setup."}
	}
	return generic(c)
}

func generic(c Code) Info {
	lookup := fmt.Sprintf("Run certutil -error %s on a Windows computer to look the code up, and read WindowsUpdate.log around the failure time.", c)
	if !c.failed() {
		return Info{Symbol: fmt.Sprintf("Success code (facility 0x%X)", c.Facility()), Category: catSuccess,
			Meaning: fmt.Sprintf("The operation reported success with extra information (facility 0x%X, code 0x%04X).", c.Facility(), c.low())}
	}
	return Info{Symbol: fmt.Sprintf("Unrecognised error (facility 0x%X)", c.Facility()), Category: catOther,
		Meaning: fmt.Sprintf("Windows reported an error from a component this dashboard has no description for (facility 0x%X, code 0x%04X).", c.Facility(), c.low()),
		Action:  lookup}
}

// win32 describes Win32 error n, the low word of a 0x8007xxxx code.
func win32(n uint16) Info {
	if e, ok := win32Errors[n]; ok {
		return Info{Symbol: e.symbol, Category: e.category, Meaning: e.meaning, Action: e.action,
			RepairApplies: e.category == catDownload}
	}
	return Info{Symbol: fmt.Sprintf("Win32 error %d", n), Category: catOther,
		Meaning: fmt.Sprintf("Windows reported system error %d, which this dashboard has no description for.", n),
		Action:  fmt.Sprintf("Run net helpmsg %d on a Windows computer to read the system's text for it, and read WindowsUpdate.log around the failure time.", n)}
}

// servicing describes a facility 0xF code: the servicing stack (CBS), its
// delta patching engine (PSFX), or SetupAPI device installation.
func servicing(low uint16) Info {
	switch {
	case low >= 0x0980 && low <= 0x09FF:
		return Info{Symbol: "PSFX_E_* (delta patching)", Category: catStore,
			Meaning: "Windows could not apply the update's differential (delta) patch to an installed file.",
			Action:  "Run DISM /Online /Cleanup-Image /RestoreHealth and retry; if it keeps failing, an in-place upgrade repairs the files."}
	case low < 0x0800, low >= 0x1000 && low < 0x2000:
		return Info{Symbol: "SPAPI_E_* (device installation)", Category: catDrivers,
			Meaning: "Windows could not install a device driver."}
	}
	return Info{Symbol: "CBS_E_* (servicing stack)", Category: catStack,
		Meaning: "The Windows servicing stack (CBS) failed to install or roll back the update."}
}

// httpStatus describes a facility 0x19 code, which carries an HTTP status
// returned to BITS or Delivery Optimization.
func httpStatus(status int) Info {
	text := http.StatusText(status)
	meaning := fmt.Sprintf("The download server answered with HTTP status %d (%s).", status, text)
	if text == "" {
		meaning = fmt.Sprintf("The download server answered with unexpected HTTP status %d.", status)
	}
	info := Info{Symbol: fmt.Sprintf("HTTP_E_STATUS_* (HTTP %d)", status), Category: catServer, Meaning: meaning}
	if status == http.StatusProxyAuthRequired {
		info.Category = catNetwork
		info.Action = "Let WSUS traffic bypass the proxy, or set a WinHTTP proxy that allows the computer account."
	}
	return info
}

// wuRanges describes Windows Update failure codes by the top hex digit of
// their low word, following the sub-ranges of wuerror.h.
var wuRanges = [16]Info{
	0x0: {Symbol: "WU_E_* (agent)", Category: catOther,
		Meaning: "The Windows Update agent reported a general error."},
	0x1: {Symbol: "WU_E_MSI_* (Windows Installer)", Category: catInstaller,
		Meaning: "Windows Update could not use Windows Installer for the update.",
		Action:  "Check that the Windows Installer service can start, then read the product's MSI log."},
	0x2: {Symbol: "WU_E_UH_* (update handler)", Category: catStack,
		Meaning: "The Windows Update component that applies updates failed.",
		Action:  "Read CBS.log for the underlying error; run DISM /Online /Cleanup-Image /RestoreHealth if it points to corruption."},
	0x3: {Symbol: "WU_E_* (user interface)", Category: catOther,
		Meaning: "The Windows Update user interface or notification component failed.",
		Action:  "This is rarely why an install fails; look at the update's own result code instead."},
	0x4: {Symbol: "WU_E_PT_* (protocol talker)", Category: catNetwork,
		Meaning: "Windows Update failed while talking to the update server.",
		Action:  "Check DNS, firewall and proxy to the WSUS server and its IIS site; if many computers fail at once, fix the server."},
	0x5: {Symbol: "WU_E_REDIRECTOR_* (redirector)", Category: catNetwork,
		Meaning: "Windows Update could not get the addresses of its update services.",
		Action:  "Check the WSUS policy and that the computer can reach its update source."},
	0x6: {Symbol: "WU_E_DM_* (download manager)", Category: catDownload,
		Meaning: "Windows Update failed to download update files.",
		Action:  "Check BITS and the proxy; if the download keeps failing, run the KB 910336 repair."},
	0x7: {Symbol: "WU_E_* (scan and metadata)", Category: catDatabase,
		Meaning: "Windows Update could not process scan data or update metadata.",
		Action:  "Retry detection; if it repeats, run the KB 910336 repair so the metadata is fetched again."},
	0x8: {Symbol: "WU_E_DS_* (data store)", Category: catDatabase, RepairApplies: true,
		Meaning: "The Windows Update database (DataStore) is damaged or inconsistent."},
	0x9: {Symbol: "WU_E_INVENTORY_* (inventory)", Category: catOther,
		Meaning: "Windows Update failed while collecting the computer's inventory."},
	0xA: {Symbol: "WU_E_AU_* (Automatic Updates)", Category: catServices,
		Meaning: "Automatic Updates could not carry out the requested operation.",
		Action:  "Check that Automatic Updates is enabled and configured by policy, then restart wuauserv."},
	0xB: {Symbol: "WU_E_* (tasks and file trust)", Category: catOther,
		Meaning: "Windows Update failed while scheduling its work or checking a file's trust."},
	0xC: {Symbol: "WU_E_DRV_* (drivers)", Category: catDrivers,
		Meaning: "Windows Update failed while handling a driver update."},
	0xD: {Symbol: "WU_E_SETUP_* (agent setup)", Category: catOther,
		Meaning: "The Windows Update Agent could not update itself.",
		Action:  "Make sure WSUS offers the agent self-update (KB920659) and the client can reach the server's /selfupdate folder."},
	0xE: {Symbol: "WU_E_EE_* (expression evaluator)", Category: catOther,
		Meaning: "Windows Update could not work out whether an update applies to this computer.",
		Action:  "Retry detection; if one update keeps failing this way, decline it in WSUS."},
	0xF: {Symbol: "WU_E_REPORTER_* (reporter)", Category: catServer,
		Meaning: "Windows Update could not report its status to the update server.",
		Action:  "Check that the computer can reach the WSUS reporting web service, and the server's health."},
}

// windowsUpdate describes a failure code of facility 0x24 by its sub-range.
func windowsUpdate(c Code) Info {
	low := c.low()
	switch {
	case low&0xFF00 == 0x0400:
		// 0x802404xx holds the newer web-service errors of the protocol talker.
		return Info{Symbol: "WU_E_PT_* (web service)", Category: catNetwork,
			Meaning: "Windows Update could not talk to the update service over the network."}
	case low&0xFF00 == 0xA100:
		// 0x8024A1xx belongs to the Update Orchestrator and is not in the
		// public header.
		return Info{Symbol: "USO_E_* (Update Orchestrator)", Category: catServices,
			Meaning: "The Update Orchestrator, which schedules scans and installs, reported an error.",
			Action:  "Retry and restart wuauserv, UsoSvc and BITS; if it persists, run the KB 910336 repair."}
	}
	return wuRanges[low>>12]
}

# wsusfix-prelude: host
# Shared functions about the host: registry, services and the Windows Update
# history. The Go side appends this file to prelude.ps1 and puts both before
# every step's script; see prelude.ps1 for the output contract.

# ---- host facts ------------------------------------------------------------

function Open-WsusfixRegistryKey {
    param([string]$Path)
    # Always the 64-bit view: a 32-bit PowerShell would otherwise read the
    # redirected WOW6432Node copy of HKLM\SOFTWARE. $null when absent.
    $base = [Microsoft.Win32.RegistryKey]::OpenBaseKey(
        [Microsoft.Win32.RegistryHive]::LocalMachine, [Microsoft.Win32.RegistryView]::Registry64)
    try {
        return $base.OpenSubKey($Path)
    } finally {
        $base.Close()
    }
}

function Get-WsusfixRegistryValue {
    param([string]$Path, [string]$Name)
    $key = Open-WsusfixRegistryKey $Path
    if ($null -eq $key) { return $null }
    try {
        $value = $key.GetValue($Name)
    } finally {
        $key.Close()
    }
    if ($value -is [array]) { return , $value }
    return $value
}

function Test-WsusfixRegistryKey {
    param([string]$Path)
    $key = Open-WsusfixRegistryKey $Path
    if ($null -eq $key) { return $false }
    $key.Close()
    return $true
}

function Get-WsusfixOSBuild {
    # The registry, not [Environment]::OSVersion, which reports 6.2 on newer
    # Windows to processes without a compatibility manifest.
    $build = Get-WsusfixRegistryValue 'SOFTWARE\Microsoft\Windows NT\CurrentVersion' 'CurrentBuildNumber'
    $n = 0
    if ($null -eq $build -or -not [int]::TryParse([string]$build, [ref]$n)) { return 0 }
    return $n
}

# ---- services --------------------------------------------------------------

function Get-WsusfixStartMode {
    param([string]$Name)
    # The start type as the service control manager keeps it. Read from the
    # registry because ServiceController.StartType needs .NET 4.6.1 and WMI
    # would need the name inside a query string. 'absent' when not installed.
    $key = Open-WsusfixRegistryKey ('SYSTEM\CurrentControlSet\Services\' + $Name)
    if ($null -eq $key) { return 'absent' }
    try {
        $start = $key.GetValue('Start')
        $delayed = $key.GetValue('DelayedAutostart')
    } finally {
        $key.Close()
    }
    if ($null -eq $start) { return 'unknown' }
    switch ([int]$start) {
        0 { return 'boot' }
        1 { return 'system' }
        2 {
            if ($null -ne $delayed -and [int]$delayed -eq 1) { return 'auto_delayed' }
            return 'auto'
        }
        3 { return 'manual' }
        4 { return 'disabled' }
    }
    return 'unknown'
}

function Get-WsusfixWin32Error {
    param($Exception)
    # ServiceController reports Win32 errors as an InvalidOperationException
    # around a Win32Exception; 0 when there is none.
    $e = $Exception
    while ($null -ne $e) {
        if ($e -is [System.ComponentModel.Win32Exception]) { return [int]$e.NativeErrorCode }
        $e = $e.InnerException
    }
    return 0
}

function Write-WsusfixService {
    param($Name, $Action, $Status, $Previous, $StartMode, $Watch, $Ok, $Detail, $Dependents)
    $names = New-Object 'System.Collections.Generic.List[string]'
    if ($null -ne $Dependents) { foreach ($d in $Dependents) { $names.Add([string]$d) } }
    Write-WsusfixLine 'service' ([ordered]@{
            name       = [string]$Name
            action     = [string]$Action
            status     = [string]$Status
            previous   = [string]$Previous
            start_mode = [string]$StartMode
            waited_ms  = [long]$Watch.ElapsedMilliseconds
            ok         = [bool]$Ok
            detail     = [string]$Detail
            dependents = $names
        })
}

function Stop-WsusfixService {
    # Stops one service and waits for Stopped until TimeoutSec. Already
    # stopped, or not installed, is success. Prints one "service" line and
    # returns $true or $false.
    param([string]$Name, [int]$TimeoutSec)
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $mode = Get-WsusfixStartMode $Name
    $none = New-Object 'System.Collections.Generic.List[string]'
    if ($mode -eq 'absent') {
        Write-WsusfixText ('  ' + $Name + ': not installed, nothing to stop')
        Write-WsusfixService $Name 'stop' 'absent' 'absent' $mode $watch $true 'not installed on this host' $none
        return $true
    }
    $sc = Get-Service -Name $Name
    $before = [string]$sc.Status
    # ServiceController.Stop() also stops running dependents; they are
    # reported so the caller can start them again.
    $dependents = New-Object 'System.Collections.Generic.List[string]'
    foreach ($d in @($sc.DependentServices)) {
        if ([string]$d.Status -ne 'Stopped') { $dependents.Add([string]$d.ServiceName) }
    }
    $detail = ''
    $ok = $false
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    # Poll rather than WaitForStatus: a trigger-started service (wuauserv)
    # can start again while we wait, and must then be stopped again.
    while ($true) {
        $sc.Refresh()
        $status = [string]$sc.Status
        if ($status -eq 'Stopped') { $ok = $true; break }
        if ($status -eq 'Running' -or $status -eq 'Paused') {
            try {
                $sc.Stop()
            } catch {
                $ex = Get-WsusfixException $_
                $detail = $ex.Message
                # 1061: cannot accept control messages at this time, which
                # passes. Anything else (access denied...) will not.
                $code = Get-WsusfixWin32Error $ex
                if ($code -ne 1061) { break }
            }
        }
        if ([DateTime]::UtcNow -ge $deadline) {
            $detail = 'still ' + $status + ' after ' + $TimeoutSec + ' s'
            break
        }
        Start-Sleep -Milliseconds 250
    }
    $sc.Refresh()
    if ($ok) {
        if ($before -eq 'Stopped') { $detail = 'was already stopped' } else { $detail = 'stopped' }
        Write-WsusfixText ('  ' + $Name + ': ' + $detail + ' (' + $watch.ElapsedMilliseconds + ' ms)')
    } else {
        Write-WsusfixText ('  ' + $Name + ': did not stop: ' + $detail)
    }
    Write-WsusfixService $Name 'stop' ([string]$sc.Status) $before $mode $watch $ok $detail $dependents
    return $ok
}

function Start-WsusfixService {
    # Starts one service and waits for Running until TimeoutSec. Already
    # running, or not installed, is success; a Disabled service is left
    # alone and reported. Prints one "service" line and returns a reason
    # code: '' on success, else start_timeout, start_failed or
    # service_disabled.
    param([string]$Name, [int]$TimeoutSec)
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $mode = Get-WsusfixStartMode $Name
    $none = New-Object 'System.Collections.Generic.List[string]'
    if ($mode -eq 'absent') {
        Write-WsusfixText ('  ' + $Name + ': not installed, nothing to start')
        Write-WsusfixService $Name 'start' 'absent' 'absent' $mode $watch $true 'not installed on this host' $none
        return ''
    }
    $sc = Get-Service -Name $Name
    $before = [string]$sc.Status
    if ($mode -eq 'disabled' -and $before -ne 'Running') {
        # Never re-enable: the start mode is the admin's (or a policy's).
        $detail = 'start mode is Disabled; not changed'
        Write-WsusfixText ('  ' + $Name + ': ' + $detail)
        Write-WsusfixService $Name 'start' $before $before $mode $watch $false $detail $none
        return 'service_disabled'
    }
    $reason = 'start_timeout'
    $detail = ''
    $ok = $false
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while ($true) {
        $sc.Refresh()
        $status = [string]$sc.Status
        # Running once is enough: on Windows 10 and later wuauserv is
        # trigger-started and may stop again by itself when idle.
        if ($status -eq 'Running') { $ok = $true; break }
        if ($status -eq 'Stopped') {
            try {
                $sc.Start()
            } catch {
                $ex = Get-WsusfixException $_
                $detail = $ex.Message
                $code = Get-WsusfixWin32Error $ex
                # 1056: already running (a trigger beat us), which is fine.
                if ($code -ne 1056) {
                    $reason = 'start_failed'
                    if ($code -eq 1058) { $reason = 'service_disabled' }
                    break
                }
            }
        }
        if ([DateTime]::UtcNow -ge $deadline) {
            $detail = 'still ' + $status + ' after ' + $TimeoutSec + ' s'
            break
        }
        Start-Sleep -Milliseconds 250
    }
    $sc.Refresh()
    if ($ok) {
        $reason = ''
        if ($before -eq 'Running') { $detail = 'was already running' } else { $detail = 'running' }
        Write-WsusfixText ('  ' + $Name + ': ' + $detail + ' (' + $watch.ElapsedMilliseconds + ' ms)')
    } else {
        Write-WsusfixText ('  ' + $Name + ': did not start: ' + $detail)
    }
    Write-WsusfixService $Name 'start' ([string]$sc.Status) $before $mode $watch $ok $detail $none
    return $reason
}

# ---- update history --------------------------------------------------------

function Get-WsusfixResultName {
    param([int]$Code)
    # OperationResultCode (wuapi.h).
    switch ($Code) {
        0 { return 'not_started' }
        1 { return 'in_progress' }
        2 { return 'succeeded' }
        3 { return 'succeeded_with_errors' }
        4 { return 'failed' }
        5 { return 'aborted' }
    }
    return 'unknown'
}

function Get-WsusfixKB {
    param([string]$Title)
    # The KB number is not a field of a history entry; titles carry it as
    # "... (KB5031364)".
    $m = [regex]::Match($Title, 'KB(\d{4,8})', [Text.RegularExpressions.RegexOptions]::IgnoreCase)
    if ($m.Success) { return 'KB' + $m.Groups[1].Value }
    return ''
}

function ConvertFrom-WsusfixHistoryEntry {
    param($Entry)
    # One IUpdateHistoryEntry as plain data, in the order of
    # scripts.HistoryEntry in Go.
    $title = [string]$Entry.Title
    $updateId = ''
    $revision = 0
    $identity = $Entry.UpdateIdentity
    if ($null -ne $identity) {
        $updateId = [string]$identity.UpdateID
        $revision = [int]$identity.RevisionNumber
    }
    $operation = 'other'
    if ([int]$Entry.Operation -eq 1) { $operation = 'installation' }
    elseif ([int]$Entry.Operation -eq 2) { $operation = 'uninstallation' }
    $code = [int]$Entry.ResultCode
    return [ordered]@{
        date        = Format-WsusfixDate $Entry.Date
        operation   = $operation
        result      = Get-WsusfixResultName $code
        result_code = $code
        hresult     = ConvertTo-WsusfixUInt32 $Entry.HResult
        update_id   = $updateId
        revision    = $revision
        kb          = Get-WsusfixKB $title
        title       = $title
        client_app  = [string]$Entry.ClientApplicationID
    }
}

function Get-WsusfixHistoryPage {
    param($Searcher, [int]$Start, [int]$Count)
    # Reads history entries Start..Start+Count-1 (newest first). Throws when
    # the page cannot be read; an entry that cannot be read is skipped with a
    # warning, because corrupt entries exist and must not hide the others.
    $list = New-Object 'System.Collections.Generic.List[object]'
    $page = $Searcher.QueryHistory($Start, $Count)
    for ($i = 0; $i -lt $page.Count; $i++) {
        try {
            $entry = $page.Item($i)
            $list.Add((ConvertFrom-WsusfixHistoryEntry $entry))
        } catch {
            $ex = Get-WsusfixException $_
            Write-WsusfixWarning -Code 'history_entry_unreadable' -Message ('history entry ' + ($Start + $i) + ': ' + $ex.Message)
        }
    }
    return , $list
}

function New-WsusfixUpdateSearcher {
    # A searcher of the Windows Update Agent, named so its searches are
    # recognisable in the host's own logs.
    $session = New-Object -ComObject 'Microsoft.Update.Session'
    $session.ClientApplicationID = 'wsusfix'
    return $session.CreateUpdateSearcher()
}

# ---- line numbers ----------------------------------------------------------

# This must stay the prelude's last line. The line this throw reports, plus
# the two lines the Go side opens the step's scope with (scopeOpen in
# scripts.go), is how many lines precede the step script's first line.
try { throw 'line' } catch { $WsusfixState.LineOffset = [int]$_.InvocationInfo.ScriptLineNumber + 2 }

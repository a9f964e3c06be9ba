# wsusfix-script: wsus-inventory
# The inventory sync's collector, run on the WSUS server over WinRM, so the
# WSUS administration API (Microsoft.UpdateServices.Administration) is
# local: no second hop. Read-only. It reads the computers WSUS knows (all of
# them, or those that reported since a cursor), every computer's summary
# counts in one call, the failed updates of those with failures, and the
# clients' error codes from one windowed read of the event history. The
# per-computer-per-update view PUBLIC_VIEWS.vUpdateInstallationInfo is a
# cross join of every update with every computer, so it is never used.
#
# Parameters: server (default localhost), port (default 8530, or 8531 with
# use_ssl), use_ssl (default false): where the API reaches WSUS from here;
# since (RFC 3339 UTC, default none): only computers that reported since
# then, and events since then; none lists every computer with the events
# of the last event_days (default 15, WSUS's ClientEventExpirationTime, at
# most 90); batch_size (default 200, at most 500): computers per line.
# Prints: "computers" lines of up to batch_size computers each (with the
# total the query returned, for progress), in the order of
# scripts.InventoryComputer, streamed as they are read; "warning"
# lines (a ghost update, a computer that could not be read); then "result"
# with the counts and server_time, this server's UTC time when the query
# began: the next sync's cursor.
# Exit: 0 listed (possibly none); 1 failed (wsus_api_missing,
#       wsus_connect_failed, wsus_access_denied, wsus_timeout,
#       wsus_query_failed); 3 bad parameters; 4 unexpected error.
param([string]$ParamsB64)
trap { Stop-WsusfixOnError $_ }
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WsusfixState.Step = 'wsus-inventory'
$P = Read-WsusfixParams $ParamsB64
$server = Get-WsusfixString $P 'server'
if ($server -eq '') { $server = 'localhost' }
$useSsl = $true -eq (Get-WsusfixParam $P 'use_ssl')
$defaultPort = 8530
if ($useSsl) { $defaultPort = 8531 }
$port = Get-WsusfixInt $P 'port' $defaultPort 65535
$batchSize = Get-WsusfixInt $P 'batch_size' 200 500
$eventDays = Get-WsusfixInt $P 'event_days' 15 90
# A DNS name (RFC 1123) or an IPv4 address; nothing else reaches the API.
$label = '[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?'
if ($server.Length -gt 253 -or $server -notmatch ('^' + $label + '(\.' + $label + ')*\z')) {
    Complete-Wsusfix -Status 'failed' -Reason 'bad_params' -Message 'server must be a host name'
}
$sinceValue = Get-WsusfixParam $P 'since'
$since = [datetime]::MinValue
$incremental = $false
if ($sinceValue -is [datetime]) {
    # PowerShell 7's ConvertFrom-Json turns ISO strings into dates itself.
    $since = $sinceValue
    if ($since.Kind -eq [DateTimeKind]::Local) { $since = $since.ToUniversalTime() }
    $incremental = $true
} elseif ($null -ne $sinceValue -and [string]$sinceValue -ne '') {
    if (-not [datetime]::TryParse([string]$sinceValue, [Globalization.CultureInfo]::InvariantCulture,
            [Globalization.DateTimeStyles]'AdjustToUniversal, AssumeUniversal', [ref]$since)) {
        Complete-Wsusfix -Status 'failed' -Reason 'bad_params' -Message 'since must be an RFC 3339 time such as 2026-11-23T22:45:01Z'
    }
    $incremental = $true
}

$proxyName = 'Microsoft.UpdateServices.Administration.AdminProxy'
$adminProxy = $proxyName -as [type]
if ($null -eq $adminProxy) {
    # The assembly is in the GAC where the WSUS role or its console is
    # installed; the module is the fallback where only that is registered.
    [void][Reflection.Assembly]::LoadWithPartialName('Microsoft.UpdateServices.Administration')
    $adminProxy = $proxyName -as [type]
}
if ($null -eq $adminProxy) {
    try { Import-Module -Name UpdateServices } catch { $null = $_ }
    $adminProxy = $proxyName -as [type]
}
if ($null -eq $adminProxy) {
    Complete-Wsusfix -Status 'failed' -Reason 'wsus_api_missing' -Message (
        'the WSUS administration API is not installed here ' +
        '(install the WSUS role or the "WSUS API and PowerShell cmdlets" feature)')
}

function Get-InventoryFault {
    param($Exception)
    # The reason an API call failed, by exception type along the inner
    # chain, never by message text: wsus_access_denied for an account in
    # neither WSUS Administrators nor WSUS Reporters (the API's web service
    # answers 401), wsus_timeout for the API's fixed SQL command timeout
    # (SqlException number -2) or a web request that timed out, '' else.
    $e = $Exception
    while ($null -ne $e) {
        if ($e -is [System.UnauthorizedAccessException]) { return 'wsus_access_denied' }
        if ($e -is [System.TimeoutException]) { return 'wsus_timeout' }
        if ($e -is [System.Net.WebException]) {
            if ([string]$e.Status -eq 'Timeout') { return 'wsus_timeout' }
            if ($null -ne $e.Response -and [int]$e.Response.StatusCode -eq 401) { return 'wsus_access_denied' }
        }
        if ($e.GetType().FullName -eq 'System.Data.SqlClient.SqlException' -and [int]$e.Number -eq -2) { return 'wsus_timeout' }
        $e = $e.InnerException
    }
    return ''
}

function Stop-Inventory {
    param($ErrorRecord, [string]$Reason, [string]$What)
    $ex = Get-WsusfixException $ErrorRecord
    $fault = Get-InventoryFault $ex
    $hr = Get-WsusfixHResult $ex
    $text = $What + ': ' + $ex.Message + ' (0x' + $hr.ToString('X8') + ')'
    if ($fault -eq 'wsus_access_denied') {
        $text = 'the account is in neither WSUS Administrators nor WSUS Reporters on this server: ' + $ex.Message
        $Reason = $fault
    } elseif ($fault -eq 'wsus_timeout') {
        $text = 'the WSUS query timed out: ' + $ex.Message
        $Reason = $fault
    }
    Complete-Wsusfix -Status 'failed' -Reason $Reason -Message $text
}

$scheme = 'http'
if ($useSsl) { $scheme = 'https' }
Write-WsusfixText ('Connecting to WSUS at ' + $scheme + '://' + $server + ':' + $port + '.')
try {
    $wsus = $adminProxy::GetUpdateServer($server, $useSsl, $port)
    $groupNames = @{}
    foreach ($g in $wsus.GetComputerTargetGroups()) { $groupNames[[string]$g.Id] = [string]$g.Name }
} catch {
    Stop-Inventory $_ 'wsus_connect_failed' 'could not connect to WSUS'
}

# The cursor is this server's own clock, read before the query, so a report
# that arrives while it runs is in the next sync too.
$serverTime = [DateTime]::UtcNow
$to = $serverTime
$from = $since
if (-not $incremental) { $from = $serverTime.AddDays(-$eventDays) }
try {
    $computerScope = New-Object 'Microsoft.UpdateServices.Administration.ComputerTargetScope'
    if ($incremental) {
        Write-WsusfixText ('Reading the computers that reported since ' + (Format-WsusfixDate $since) + '.')
        $computerScope.FromLastReportedStatusTime = $since
    } else {
        Write-WsusfixText 'Reading every computer (full reconcile).'
    }
    $targets = $wsus.GetComputerTargets($computerScope)
    # Every computer's counts in one call; WSUS's own reports use it.
    $summaries = @{}
    $allUpdates = New-Object 'Microsoft.UpdateServices.Administration.UpdateScope'
    foreach ($s in $wsus.GetSummariesPerComputerTarget($allUpdates, $computerScope)) {
        $summaries[[string]$s.ComputerTargetId] = $s
    }
    # One windowed read of the event history for every computer, rather
    # than one per computer: newest error per computer and update.
    $codes = @{}
    $events = 0
    foreach ($ev in $wsus.GetUpdateEventHistory($from, $to)) {
        if (-not $ev.IsError -or $ev.ErrorCode -eq 0) { continue }
        $events += 1
        $key = [string]$ev.ComputerId + '|' + [string]$ev.UpdateId.UpdateId
        if (-not $codes.ContainsKey($key) -or $codes[$key].When -lt $ev.CreationDate) {
            $codes[$key] = @{ HResult = (ConvertTo-WsusfixUInt32 $ev.ErrorCode); When = $ev.CreationDate }
        }
    }
} catch {
    Stop-Inventory $_ 'wsus_query_failed' 'the WSUS query failed'
}
$total = [int]$targets.Count
Write-WsusfixText ([string]$total + ' computers, ' + $events + ' error events.')

$failedStates = ('Microsoft.UpdateServices.Administration.UpdateInstallationStates' -as [type])::Failed
$failedScope = New-Object 'Microsoft.UpdateServices.Administration.UpdateScope'
$failedScope.IncludedInstallationStates = $failedStates
$updates = @{}   # update id -> @{ KB; Title }, or $null for a ghost
$listed = 0
$failing = 0
$ghosts = 0
$batchNo = 0
$batch = New-Object 'System.Collections.Generic.List[object]'
foreach ($target in $targets) {
    $fqdn = [string]$target.FullDomainName
    $id = [string]$target.Id
    try {
        $s = $summaries[$id]
        $counts = @{ Failed = 0; Needed = 0; Pending = 0; Unknown = 0; Installed = 0 }
        if ($null -ne $s) {
            $counts = @{ Failed = [int]$s.FailedCount; Needed = [int]$s.NotInstalledCount + [int]$s.DownloadedCount
                Pending = [int]$s.InstalledPendingRebootCount; Unknown = [int]$s.UnknownCount; Installed = [int]$s.InstalledCount }
        }
        $failed = New-Object 'System.Collections.Generic.List[object]'
        # One call per computer, and only for computers with failures.
        if ($counts.Failed -gt 0) {
            foreach ($info in $target.GetUpdateInstallationInfoPerUpdate($failedScope)) {
                $uid = [string]$info.UpdateId
                if (-not $updates.ContainsKey($uid)) {
                    try {
                        $u = $info.GetUpdate()
                        $kb = ''
                        foreach ($article in @($u.KnowledgebaseArticles)) { $kb = 'KB' + [string]$article; break }
                        $updates[$uid] = @{ KB = $kb; Title = [string]$u.Title }
                    } catch {
                        $ex = Get-WsusfixException $_
                        if ($ex.GetType().Name -ne 'WsusObjectNotFoundException') { throw }
                        # A ghost: the update is gone from the database but
                        # still referenced. Skip it, say so once.
                        $updates[$uid] = $null
                        $ghosts += 1
                        Write-WsusfixWarning -Code 'ghost_update' -Message ('update ' + $uid + ' is missing from the WSUS database; skipped')
                    }
                }
                $meta = $updates[$uid]
                if ($null -eq $meta) { continue }
                $hresult = [uint32]0
                $time = $null
                $key = $id + '|' + $uid
                if ($codes.ContainsKey($key)) {
                    $hresult = $codes[$key].HResult
                    $time = $codes[$key].When
                }
                $failed.Add([ordered]@{
                        update_id = $uid
                        kb        = $meta.KB
                        title     = $meta.Title
                        hresult   = $hresult
                        time      = Format-WsusfixDate $time
                    })
            }
        }
        $groups = New-Object 'System.Collections.Generic.List[string]'
        foreach ($gid in @($target.ComputerTargetGroupIds)) {
            $gkey = [string]$gid
            if ($groupNames.ContainsKey($gkey)) { $groups.Add($groupNames[$gkey]) } else { $groups.Add($gkey) }
        }
        # OSInfo.Version is an OSVersion: Major, Minor, Build and the
        # service pack's numbers, no update revision (UBR) (OSVersion class,
        # learn.microsoft.com ms752750), so the version sent is three numbers.
        $build = 0
        $osVersion = ''
        if ($null -ne $target.OSInfo -and $null -ne $target.OSInfo.Version) {
            $v = $target.OSInfo.Version
            $build = [int]$v.Build
            $osVersion = '{0}.{1}.{2}' -f $v.Major, $v.Minor, $v.Build
        }
        $batch.Add([ordered]@{
                id                   = $id
                name                 = $fqdn.Split('.')[0]
                fqdn                 = $fqdn
                ip                   = [string]$target.IPAddress
                os                   = [string]$target.OSDescription
                os_build             = $build
                os_version           = $osVersion
                groups               = $groups
                last_sync            = Format-WsusfixDate $target.LastSyncTime
                last_reported        = Format-WsusfixDate $target.LastReportedStatusTime
                failed_count         = $counts.Failed
                needed_count         = $counts.Needed
                pending_reboot_count = $counts.Pending
                unknown_count        = $counts.Unknown
                installed_count      = $counts.Installed
                failed               = $failed
            })
        $listed += 1
        if ($counts.Failed -gt 0) { $failing += 1 }
    } catch {
        $ex = Get-WsusfixException $_
        $fault = Get-InventoryFault $ex
        if ($fault -ne '') { Stop-Inventory $_ 'wsus_query_failed' 'the WSUS query failed' }
        Write-WsusfixWarning -Code 'computer_unreadable' -Message ($fqdn + ': ' + $ex.Message)
    }
    if ($batch.Count -ge $batchSize) {
        Write-WsusfixLine 'computers' ([ordered]@{ batch = $batchNo; total = $total; computers = $batch })
        $batchNo += 1
        $batch = New-Object 'System.Collections.Generic.List[object]'
    }
}
if ($batch.Count -gt 0) {
    Write-WsusfixLine 'computers' ([ordered]@{ batch = $batchNo; total = $total; computers = $batch })
}

Complete-Wsusfix -Status 'ok' -Message ('listed ' + $listed + ' computers, ' + $failing + ' with failed updates') -Extra ([ordered]@{
        server_time = Format-WsusfixDate $serverTime
        computers   = $listed
        failing     = $failing
        events      = $events
        ghosts      = $ghosts
    })

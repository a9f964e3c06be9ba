# wsusfix-script: wsus-failed-computers
# Inventory, run on the WSUS server (or a host with the WSUS API installed),
# not part of the repair. Lists the computers WSUS knows to have failed
# updates, through the WSUS administration API
# (Microsoft.UpdateServices.Administration, which the UpdateServices module
# and Get-WsusComputer are built on): per computer its names, address, OS,
# groups and report times, and per failed update its KB, title and the
# client's error code from the WSUS event history of the last 90 days, where
# WSUS still has it (0 otherwise). Needs Windows PowerShell 5.1: the API is a
# .NET Framework assembly that PowerShell 7 can only reach through implicit
# remoting, which returns no usable objects.
#
# Parameters: server (default localhost), port (default 8530, or 8531 with
# use_ssl), use_ssl (default false), max (default 1000, at most 100000):
# how many computers at most.
# Prints: one "computer" line per computer, streamed as it is read (id, name,
# fqdn, ip, os, groups, last_sync, last_reported, failed: [{update_id, kb,
# title, hresult, time}]), "warning" lines, then "result".
# Exit: 0 listed (possibly none; truncated at max with a warning); 1 failed
#       (wsus_api_missing, wsus_connect_failed, wsus_query_failed);
#       3 bad parameters; 4 unexpected error.
param([string]$ParamsB64)
trap { Stop-WsusfixOnError $_ }
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WsusfixState.Step = 'wsus-failed-computers'
$P = Read-WsusfixParams $ParamsB64
$server = Get-WsusfixString $P 'server'
if ($server -eq '') { $server = 'localhost' }
$useSsl = $true -eq (Get-WsusfixParam $P 'use_ssl')
$defaultPort = 8530
if ($useSsl) { $defaultPort = 8531 }
$port = Get-WsusfixInt $P 'port' $defaultPort 65535
$max = Get-WsusfixInt $P 'max' 1000 100000
# A DNS name (RFC 1123) or an IPv4 address; nothing else reaches the API.
$label = '[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?'
if ($server.Length -gt 253 -or $server -notmatch ('^' + $label + '(\.' + $label + ')*\z')) {
    Complete-Wsusfix -Status 'failed' -Reason 'bad_params' -Message 'server must be a host name'
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

$scheme = 'http'
if ($useSsl) { $scheme = 'https' }
Write-WsusfixText ('Connecting to WSUS at ' + $scheme + '://' + $server + ':' + $port + '.')
try {
    $wsus = $adminProxy::GetUpdateServer($server, $useSsl, $port)
} catch {
    $ex = Get-WsusfixException $_
    $hr = Get-WsusfixHResult $ex
    Complete-Wsusfix -Status 'failed' -Reason 'wsus_connect_failed' -Message (
        'could not connect to WSUS: ' + $ex.Message + ' (0x' + $hr.ToString('X8') + ')')
}

try {
    $failedStates = ('Microsoft.UpdateServices.Administration.UpdateInstallationStates' -as [type])::Failed
    $computerScope = New-Object 'Microsoft.UpdateServices.Administration.ComputerTargetScope'
    $computerScope.IncludedInstallationStates = $failedStates
    # Without a state filter the per-update call also returns updates not
    # approved for the computer's group.
    $updateScope = New-Object 'Microsoft.UpdateServices.Administration.UpdateScope'
    $updateScope.IncludedInstallationStates = $failedStates
    $groupNames = @{}
    foreach ($g in $wsus.GetComputerTargetGroups()) { $groupNames[[string]$g.Id] = [string]$g.Name }
    $targets = $wsus.GetComputerTargets($computerScope)
} catch {
    $ex = Get-WsusfixException $_
    Complete-Wsusfix -Status 'failed' -Reason 'wsus_query_failed' -Message ('the WSUS query failed: ' + $ex.Message)
}
$total = [int]$targets.Count
Write-WsusfixText ([string]$total + ' computers have failed updates.')

function Get-GuidText {
    param($Value)
    # Some API members hold a Guid, others an UpdateRevisionId around one.
    if ($null -eq $Value) { return '' }
    if ($null -ne $Value.PSObject.Properties['UpdateId']) { return [string]$Value.UpdateId }
    return [string]$Value
}

$updates = @{}          # update id -> @{ KB; Title }, shared by all computers
$eventsReadable = $true
$to = [DateTime]::UtcNow
$from = $to.AddDays(-90)
$listed = 0
foreach ($target in $targets) {
    if ($listed -ge $max) { break }
    $fqdn = [string]$target.FullDomainName
    try {
        # The client's own error codes, newest per update.
        $codes = @{}
        if ($eventsReadable) {
            try {
                foreach ($ev in $wsus.GetUpdateEventHistory($from, $to, $target)) {
                    if (-not $ev.IsError -or $ev.ErrorCode -eq 0) { continue }
                    $id = Get-GuidText $ev.UpdateId
                    if (-not $codes.ContainsKey($id) -or $codes[$id].When -lt $ev.CreationDate) {
                        $codes[$id] = @{ HResult = (ConvertTo-WsusfixUInt32 $ev.ErrorCode); When = $ev.CreationDate }
                    }
                }
            } catch {
                # Purged or unreadable event history: say so once, go on
                # without error codes.
                $eventsReadable = $false
                Write-WsusfixWarning -Code 'events_unreadable' -Message ('WSUS event history: ' + (Get-WsusfixException $_).Message)
            }
        }
        $failed = New-Object 'System.Collections.Generic.List[object]'
        foreach ($info in $target.GetUpdateInstallationInfoPerUpdate($updateScope)) {
            $id = Get-GuidText $info.UpdateId
            if (-not $updates.ContainsKey($id)) {
                $u = $info.GetUpdate()
                $kb = ''
                foreach ($article in @($u.KnowledgebaseArticles)) { $kb = 'KB' + [string]$article; break }
                $updates[$id] = @{ KB = $kb; Title = [string]$u.Title }
            }
            $hresult = [uint32]0
            $time = $null
            if ($codes.ContainsKey($id)) {
                $hresult = $codes[$id].HResult
                $time = $codes[$id].When
            }
            $failed.Add([ordered]@{
                    update_id = $id
                    kb        = $updates[$id].KB
                    title     = $updates[$id].Title
                    hresult   = $hresult
                    time      = Format-WsusfixDate $time
                })
        }
        $groups = New-Object 'System.Collections.Generic.List[string]'
        foreach ($gid in @($target.ComputerTargetGroupIds)) {
            $key = [string]$gid
            if ($groupNames.ContainsKey($key)) { $groups.Add($groupNames[$key]) } else { $groups.Add($key) }
        }
        Write-WsusfixLine 'computer' ([ordered]@{
                id            = [string]$target.Id
                name          = $fqdn.Split('.')[0]
                fqdn          = $fqdn
                ip            = [string]$target.IPAddress
                os            = [string]$target.OSDescription
                groups        = $groups
                last_sync     = Format-WsusfixDate $target.LastSyncTime
                last_reported = Format-WsusfixDate $target.LastReportedStatusTime
                failed        = $failed
            })
        $listed += 1
    } catch {
        Write-WsusfixWarning -Code 'computer_unreadable' -Message ($fqdn + ': ' + (Get-WsusfixException $_).Message)
    }
}

if ($total -gt $listed -and $listed -ge $max) {
    Write-WsusfixWarning -Code 'truncated' -Message ('listed ' + $listed + ' of ' + $total + ' computers (max ' + $max + ')')
}
Complete-Wsusfix -Status 'ok' -Message ('listed ' + $listed + ' computers with failed updates')

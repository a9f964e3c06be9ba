# wsusfix-script: detect
# Step 6 of the KB 910336 repair: has Windows Update look for updates again,
# now with an empty SoftwareDistribution.
#   1. A synchronous search through the Windows Update Agent (COM), which the
#      agent allows to remote administrators (BeginSearch is not allowed), for
#      "IsInstalled=0 and IsHidden=0" against the configured server (WSUS).
#      The first search after a reset often fails with 0x80244010 (more than
#      200 round trips); that error is retried.
#   2. Then the operating system's own trigger, so the automatic engine
#      scans, downloads and reports per policy: UsoClient StartScan on
#      Windows 10 / Server 2016 and later (build 10240 on), otherwise
#      wuauclt /detectnow. Its exit code means little; it is reported as is.
#
# Parameters: retries (extra searches after 0x80244010; default 3, at most
# 10), timeout_sec (default 1800, at most 7200): no new search starts after
# that many seconds. A search in progress cannot be interrupted from
# PowerShell, so the caller's own deadline is the hard limit.
# Prints: one "scan" line per search (method com_search: found, result,
# hresult, up to 100 KB numbers) and one for the trigger (method usoclient or
# wuauclt), then "result".
# Exit: 0 the search succeeded; 1 failed (scan_failed, with the hresult in the
#       last com_search line); 3 bad parameters; 4 unexpected error.
param([string]$ParamsB64)
trap { Stop-WsusfixOnError $_ }
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WsusfixState.Step = 'detect'
$P = Read-WsusfixParams $ParamsB64
$retries = Get-WsusfixInt $P 'retries' 3 10
$timeout = Get-WsusfixInt $P 'timeout_sec' 1800 7200

function Write-Scan {
    param([string]$Method, [int]$Attempt, [bool]$Ok, $Found, [string]$Result, $HResult, $Kbs, [string]$Detail)
    # $Found stays untyped: $null (not known) must not become 0.
    $list = New-Object 'System.Collections.Generic.List[string]'
    if ($null -ne $Kbs) { foreach ($kb in $Kbs) { $list.Add([string]$kb) } }
    Write-WsusfixLine 'scan' ([ordered]@{
            method  = $Method
            attempt = $Attempt
            ok      = $Ok
            found   = $Found
            result  = $Result
            hresult = ConvertTo-WsusfixUInt32 $HResult
            kbs     = $list
            detail  = $Detail
        })
}

$tooManyTrips = ConvertFrom-WsusfixHex '80244010'   # WU_E_PT_EXCEEDED_MAX_SERVER_TRIPS
$watch = [Diagnostics.Stopwatch]::StartNew()
$found = -1
$lastHr = [uint32]0
$lastError = ''

try {
    $searcher = New-WsusfixUpdateSearcher
} catch {
    $ex = Get-WsusfixException $_
    $lastHr = Get-WsusfixHResult $ex
    $lastError = $ex.Message
    Write-Scan 'com_search' 0 $false $null 'not_started' $lastHr $null $lastError
    $searcher = $null
}

for ($attempt = 1; $null -ne $searcher -and $attempt -le $retries + 1; $attempt++) {
    Write-WsusfixText ('Searching for updates, attempt ' + $attempt + ' (this can take minutes).')
    $retry = $false
    try {
        $result = $searcher.Search('IsInstalled=0 and IsHidden=0')
        $code = [int]$result.ResultCode
        $count = [int]$result.Updates.Count
        $kbs = New-Object 'System.Collections.Generic.List[string]'
        for ($i = 0; $i -lt $count -and $kbs.Count -lt 100; $i++) {
            foreach ($id in @($result.Updates.Item($i).KBArticleIDs)) { $kbs.Add('KB' + [string]$id) }
        }
        # 2 succeeded, 3 succeeded with errors; anything else is a failed
        # search that did not throw.
        $ok = ($code -eq 2 -or $code -eq 3)
        $detail = 'found ' + $count + ' updates'
        if (-not $ok) { $detail = 'the search ended with result ' + (Get-WsusfixResultName $code) }
        Write-Scan 'com_search' $attempt $ok $count (Get-WsusfixResultName $code) 0 $kbs $detail
        Write-WsusfixText ('Search ' + $attempt + ': ' + $detail + '.')
        if ($ok) {
            $found = $count
            if ($code -eq 3) { Write-WsusfixWarning -Code 'scan_warnings' -Message 'the search succeeded with errors' }
        } else {
            $lastError = $detail
        }
    } catch {
        $ex = Get-WsusfixException $_
        $lastHr = Get-WsusfixHResult $ex
        $lastError = $ex.Message
        $retry = ($lastHr -eq $tooManyTrips)
        Write-Scan 'com_search' $attempt $false $null 'failed' $lastHr $null $lastError
        Write-WsusfixText ('Search ' + $attempt + ' failed: 0x' + $lastHr.ToString('X8') + ' ' + $lastError)
    }
    if (-not $retry) { break }
    if ($watch.Elapsed.TotalSeconds -ge $timeout) {
        Write-WsusfixWarning -Code 'scan_deadline' -Message ('no further search after ' + $timeout + ' s')
        break
    }
}

# The operating system's own trigger, fire-and-forget.
$system = [Environment]::SystemDirectory
if ((Get-WsusfixOSBuild) -ge 10240) {
    $method = 'usoclient'
    $program = Join-Path $system 'UsoClient.exe'
    $arguments = 'StartScan'
} else {
    $method = 'wuauclt'
    $program = Join-Path $system 'wuauclt.exe'
    $arguments = '/detectnow'
}
if (Test-Path -LiteralPath $program) {
    try {
        $psi = New-Object System.Diagnostics.ProcessStartInfo
        $psi.FileName = $program
        $psi.Arguments = $arguments
        $psi.UseShellExecute = $false
        $psi.CreateNoWindow = $true
        $proc = [System.Diagnostics.Process]::Start($psi)
        if ($proc.WaitForExit(60000)) {
            $detail = 'started; exit code ' + $proc.ExitCode
            $started = $true
        } else {
            $detail = 'still running after 60 s; left running'
            $started = $true
        }
        $proc.Dispose()
    } catch {
        $detail = (Get-WsusfixException $_).Message
        $started = $false
    }
    $state = 'started'
    if (-not $started) { $state = 'failed' }
    Write-Scan $method 1 $started $null $state 0 $null $detail
    Write-WsusfixText ($program + ' ' + $arguments + ': ' + $detail)
} else {
    Write-WsusfixWarning -Code 'trigger_missing' -Message ($program + ' does not exist')
}

if ($found -ge 0) {
    Complete-Wsusfix -Status 'ok' -Message ('the search found ' + $found + ' updates')
}
$message = 'the search failed'
if ($lastHr -ne 0) { $message += ' with 0x' + $lastHr.ToString('X8') }
if ($lastError -ne '') { $message += ': ' + $lastError }
Complete-Wsusfix -Status 'failed' -Reason 'scan_failed' -Message $message

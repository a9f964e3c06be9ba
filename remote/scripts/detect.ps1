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
# 10), timeout_sec (default 3600, at most 14400): how long the searches may
# take in all. After the reset the agent has lost its sync state and does a
# full scan, which KB 4490414 warns can move over a gigabyte of metadata and
# take long on a loaded WSUS server. A search still running at the deadline
# is not a failure: the step says so ("scan_running") and ends, and the
# automatic engine's own scan, started by the trigger, goes on.
# Prints: one "scan" line per search (method com_search: found, result,
# hresult, up to 100 KB numbers; result in_progress when the deadline came
# first), "Still searching" lines every 5 minutes, one "scan" line for the
# trigger (method usoclient or wuauclt), then "result".
# Exit: 0 the search succeeded, or is still running (reason scan_running);
#       1 failed (scan_failed, with the hresult in the last com_search line);
#       3 bad parameters; 4 unexpected error.
param([string]$ParamsB64)
trap { Stop-WsusfixOnError $_ }
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WsusfixState.Step = 'detect'
$P = Read-WsusfixParams $ParamsB64
$retries = Get-WsusfixInt $P 'retries' 3 10
$timeout = Get-WsusfixInt $P 'timeout_sec' 3600 14400

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

# One synchronous search, run on a runspace of its own so that this script
# can stop waiting at the deadline: Search cannot be interrupted, and
# BeginSearch is not available to remote callers. The runspace hands back
# plain data and the exception, never a COM object, so nothing crosses
# threads but values. The criteria travel as an argument, not as text.
# (Keys are not named Count or Keys, which a hashtable's own properties
# would shadow or be shadowed by.)
$searchScript = {
    param([string]$Criteria)
    $ErrorActionPreference = 'Stop'
    $out = @{ Code = -1; Found = 0; Kbs = (New-Object 'System.Collections.Generic.List[string]'); Exception = $null }
    try {
        $session = New-Object -ComObject 'Microsoft.Update.Session'
        $session.ClientApplicationID = 'wsusfix'
        $result = $session.CreateUpdateSearcher().Search($Criteria)
        $out.Code = [int]$result.ResultCode
        $out.Found = [int]$result.Updates.Count
        for ($i = 0; $i -lt $out.Found -and $out.Kbs.Count -lt 100; $i++) {
            foreach ($id in @($result.Updates.Item($i).KBArticleIDs)) { $out.Kbs.Add('KB' + [string]$id) }
        }
    } catch {
        $out.Exception = $_.Exception
    }
    $out
}

$deadline = [DateTime]::UtcNow.AddSeconds($timeout)
$tooManyTrips = ConvertFrom-WsusfixHex '80244010'   # WU_E_PT_EXCEEDED_MAX_SERVER_TRIPS
$found = -1
$running = $false
$lastHr = [uint32]0
$lastError = ''

for ($attempt = 1; $attempt -le $retries + 1; $attempt++) {
    Write-WsusfixText ('Searching for updates, attempt ' + $attempt + ' (the first full scan after a reset can take long).')
    $retry = $false
    $ps = [PowerShell]::Create()
    [void]$ps.AddScript($searchScript.ToString()).AddArgument('IsInstalled=0 and IsHidden=0')
    $handle = $ps.BeginInvoke()
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $done = $false
    while (-not $done) {
        $left = ($deadline - [DateTime]::UtcNow).TotalMilliseconds
        if ($left -le 0) { break }
        $done = $handle.AsyncWaitHandle.WaitOne([int][Math]::Min($left, 300000))
        if (-not $done -and $left -gt 300000) {
            Write-WsusfixText ('Still searching (' + [int]$watch.Elapsed.TotalMinutes + ' min so far).')
        }
    }
    if (-not $done) {
        # Left running: ending this process ends our call, and the trigger
        # below has the automatic engine scan on its own.
        $running = $true
        $detail = 'still searching after ' + [int]$watch.Elapsed.TotalMinutes + ' min, at the step deadline of ' + $timeout + ' s'
        Write-Scan 'com_search' $attempt $false $null 'in_progress' 0 $null $detail
        Write-WsusfixText ('Search ' + $attempt + ': ' + $detail + '.')
        break
    }
    $out = @($ps.EndInvoke($handle))[0]
    $ps.Dispose()
    if ($null -eq $out.Exception) {
        $code = [int]$out.Code
        # 2 succeeded, 3 succeeded with errors; anything else is a failed
        # search that did not throw.
        $ok = ($code -eq 2 -or $code -eq 3)
        $detail = 'found ' + (Format-WsusfixCount ([int]$out.Found) 'update')
        if (-not $ok) { $detail = 'the search ended with result ' + (Get-WsusfixResultName $code) }
        Write-Scan 'com_search' $attempt $ok ([int]$out.Found) (Get-WsusfixResultName $code) 0 $out.Kbs $detail
        Write-WsusfixText ('Search ' + $attempt + ': ' + $detail + '.')
        if ($ok) {
            $found = [int]$out.Found
            if ($code -eq 3) { Write-WsusfixWarning -Code 'scan_warnings' -Message 'the search succeeded with errors' }
        } else {
            $lastError = $detail
        }
    } else {
        $ex = Get-WsusfixException $out.Exception
        $lastHr = Get-WsusfixHResult $ex
        $lastError = $ex.Message
        $retry = ($lastHr -eq $tooManyTrips)
        Write-Scan 'com_search' $attempt $false $null 'failed' $lastHr $null $lastError
        Write-WsusfixText ('Search ' + $attempt + ' failed: 0x' + $lastHr.ToString('X8') + ' ' + $lastError)
    }
    if (-not $retry) { break }
    if ([DateTime]::UtcNow -ge $deadline) {
        Write-WsusfixWarning -Code 'scan_deadline' -Message ('no further search after ' + $timeout + ' s')
        break
    }
}

# The operating system's own trigger, fire-and-forget. Its output is
# redirected and read here: a child that inherited the WinRS output handles
# and outlived PowerShell would hold the command open until it exits. Its
# stdin is closed at once for the same reason.
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
    $proc = $null
    try {
        $psi = New-Object System.Diagnostics.ProcessStartInfo
        $psi.FileName = $program
        $psi.Arguments = $arguments
        $psi.UseShellExecute = $false
        $psi.CreateNoWindow = $true
        $psi.RedirectStandardInput = $true
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $proc = [System.Diagnostics.Process]::Start($psi)
        $proc.StandardInput.Close()
        if ($proc.WaitForExit(60000)) {
            # Exited, so both pipes are at their end and reading cannot block.
            $said = ($proc.StandardOutput.ReadToEnd() + ' ' + $proc.StandardError.ReadToEnd()).Trim()
            $detail = 'started; exit code ' + $proc.ExitCode
            if ($said -ne '') { $detail += '; it said: ' + $said }
        } else {
            $detail = 'still running after 60 s; left running'
        }
        $started = $true
    } catch {
        $detail = (Get-WsusfixException $_).Message
        $started = $false
    } finally {
        if ($null -ne $proc) { $proc.Dispose() }
    }
    $state = 'started'
    if (-not $started) { $state = 'failed' }
    Write-Scan $method 1 $started $null $state 0 $null $detail
    Write-WsusfixText ($program + ' ' + $arguments + ': ' + $detail)
} else {
    Write-WsusfixWarning -Code 'trigger_missing' -Message ($program + ' does not exist')
}

if ($found -ge 0) {
    Complete-Wsusfix -Status 'ok' -Message ('the search found ' + (Format-WsusfixCount $found 'update'))
}
if ($running) {
    Complete-Wsusfix -Status 'ok' -Reason 'scan_running' -Message 'scan still running on the host; check again later'
}
$message = 'the search failed'
if ($lastHr -ne 0) { $message += ' with 0x' + $lastHr.ToString('X8') }
if ($lastError -ne '') { $message += ': ' + $lastError }
Complete-Wsusfix -Status 'failed' -Reason 'scan_failed' -Message $message

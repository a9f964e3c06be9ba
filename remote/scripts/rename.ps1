# wsusfix-script: rename
# Step 4 of the KB 910336 repair: renames %windir%\SoftwareDistribution to
# SoftwareDistribution.SDTemp-<stamp>. The stamp comes from the parameters (a
# UTC time, e.g. 20261123T224501Z), so every repair gets a new name where the
# KB's fixed "SDTemp" fails on the second repair. Skips when the folder is
# absent (a previous run got this far). A lock (BITS, Delivery Optimization,
# an antivirus filter, or wuauserv started again by a trigger) is retried:
# the services are stopped again before every try, the first included.
#
# Parameters: stamp (required, yyyyMMddTHHmmssZ), attempts (default 5, at most
# 20), retry_delay_sec (default 2, at most 60), services to stop again before
# each try (default ["wuauserv","BITS","DoSvc"]), timeout_sec per service
# (default 60, at most 600).
# Prints: one "rename" line per attempt (from, to, attempt, ok, hresult,
# detail), "service" lines when it stops services again, then "result".
# Exit: 0 renamed, or skipped (reason absent); 1 failed (target_exists,
#       rename_locked, rename_failed); 3 bad parameters; 4 unexpected error.
param([string]$ParamsB64)
trap { Stop-WsusfixOnError $_ }
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WsusfixState.Step = 'rename'
$P = Read-WsusfixParams $ParamsB64
$stamp = Get-WsusfixString $P 'stamp'
$attempts = Get-WsusfixInt $P 'attempts' 5 20
$delay = Get-WsusfixInt $P 'retry_delay_sec' 2 60
$services = Get-WsusfixStringList $P 'services' @('wuauserv', 'BITS', 'DoSvc')
$timeout = Get-WsusfixInt $P 'timeout_sec' 60 600
Assert-WsusfixServiceNames $services
# The stamp becomes part of a path, so it must be exactly the expected form.
if ($stamp -notmatch '^\d{8}T\d{6}Z\z') {
    Complete-Wsusfix -Status 'failed' -Reason 'bad_params' -Message 'stamp must look like 20261123T224501Z'
}

function Write-Attempt {
    param([int]$Attempt, [bool]$Ok, $HResult, [string]$Detail)
    Write-WsusfixLine 'rename' ([ordered]@{
            from    = $from
            to      = $to
            attempt = $Attempt
            ok      = $Ok
            hresult = ConvertTo-WsusfixUInt32 $HResult
            detail  = $Detail
        })
}

$windir = [Environment]::GetFolderPath('Windows')
$from = Join-Path $windir 'SoftwareDistribution'
$to = Join-Path $windir ('SoftwareDistribution.SDTemp-' + $stamp)

if (-not [IO.Directory]::Exists($from)) {
    $detail = $from + ' does not exist'
    if ([IO.Directory]::Exists($to)) { $detail = 'already renamed to ' + $to }
    Write-WsusfixText ('Nothing to rename: ' + $detail + '.')
    Write-Attempt 0 $true 0 $detail
    Complete-Wsusfix -Status 'skipped' -Reason 'absent' -Message $detail
}
if ([IO.Directory]::Exists($to) -or [IO.File]::Exists($to)) {
    Write-Attempt 0 $false 0 'the target already exists'
    Complete-Wsusfix -Status 'failed' -Reason 'target_exists' -Message ($to + ' already exists; use a new stamp')
}

Write-WsusfixText ('Renaming ' + $from + ' to ' + $to + '.')
$reason = 'rename_failed'
$lastError = ''
$renamed = $false
for ($attempt = 1; $attempt -le $attempts; $attempt++) {
    # The services are stopped again before every attempt, the first too:
    # wuauserv is trigger-started and can come back in the seconds between
    # the stop-services step and this one, which would cost a failed
    # attempt and a retry.
    if ($attempt -eq 1) {
        Write-WsusfixText 'Stopping the services once more, in case a trigger started one since the last step.'
    } else {
        Start-Sleep -Seconds $delay
        Write-WsusfixText 'Stopping the services again before the next attempt.'
    }
    foreach ($name in $services) {
        [void](Stop-WsusfixService -Name $name -TimeoutSec $timeout)
    }
    try {
        [IO.Directory]::Move($from, $to)
        $renamed = $true
    } catch {
        $ex = Get-WsusfixException $_
        $hr = Get-WsusfixHResult $ex
        $lastError = $ex.Message
        # IOException is what a lock looks like (sharing violation
        # 0x80070020); access denied can also be a filter driver's lock.
        # Either may pass, so both are retried; only the final reason differs.
        if ($ex -is [System.IO.IOException]) { $reason = 'rename_locked' } else { $reason = 'rename_failed' }
        Write-Attempt $attempt $false $hr $lastError
        Write-WsusfixText ('Attempt ' + $attempt + ' of ' + $attempts + ' failed: ' + $lastError)
    }
    if ($renamed) {
        Write-Attempt $attempt $true 0 'renamed'
        Write-WsusfixText ('Renamed on attempt ' + $attempt + '.')
        Complete-Wsusfix -Status 'ok' -Message ('renamed ' + $from + ' to ' + $to)
    }
}
Complete-Wsusfix -Status 'failed' -Reason $reason -Message (
    'could not rename ' + $from + ' after ' + $attempts + ' attempts: ' + $lastError)

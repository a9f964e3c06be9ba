# wsusfix-script: stop-services
# Step 3 of the KB 910336 repair. Stops Windows Update and the services that
# hold files in SoftwareDistribution, by service name (display names are
# localised), each waited to Stopped under a timeout. A service that is
# already stopped, or not installed (DoSvc before Windows 10), is success.
# Every service is attempted even after one fails, so the report is
# complete; the procedure starts them all again in step 5 regardless.
#
# Parameters: services (default ["wuauserv","BITS","DoSvc"]), timeout_sec per
# service (default 60, at most 600).
# Prints: one "service" line per service (dependents = running services that
# Windows stopped with it), then "result".
# Exit: 0 all stopped or absent; 1 failed (stop_failed); 3 bad parameters;
#       4 unexpected error.
param([string]$ParamsB64)
trap { Stop-WsusfixOnError $_ }
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WsusfixState.Step = 'stop-services'
$P = Read-WsusfixParams $ParamsB64
$services = Get-WsusfixStringList $P 'services' @('wuauserv', 'BITS', 'DoSvc')
$timeout = Get-WsusfixInt $P 'timeout_sec' 60 600
Assert-WsusfixServiceNames $services

Write-WsusfixText ('Stopping ' + [string]::Join(', ', $services) + ' (up to ' + $timeout + ' s each).')
$notStopped = New-Object 'System.Collections.Generic.List[string]'
foreach ($name in $services) {
    $ok = Stop-WsusfixService -Name $name -TimeoutSec $timeout
    if (-not $ok) { $notStopped.Add($name) }
}

if ($notStopped.Count -gt 0) {
    $list = [string]::Join(', ', $notStopped.ToArray())
    Complete-Wsusfix -Status 'failed' -Reason 'stop_failed' -Message ('did not stop: ' + $list + '; a reboot may be needed')
}
Complete-Wsusfix -Status 'ok' -Message ('stopped: ' + [string]::Join(', ', $services))

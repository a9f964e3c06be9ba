# wsusfix-script: start-services
# Step 5 of the KB 910336 repair, which the procedure runs whenever step 3
# ran, whatever happened after it. Starts the services in the reverse of the
# order they were stopped, each waited to Running under a timeout. Already
# running, or not installed, is success; reaching Running once is enough,
# because wuauserv may stop again by itself when idle (Windows 10 and later).
# A Disabled service is reported, never re-enabled. Every service is
# attempted even after one fails.
#
# Parameters: services, in the order they were stopped (default
# ["wuauserv","BITS","DoSvc"]; add the dependents stop-services reported),
# timeout_sec per service (default 60, at most 600).
# Prints: one "service" line per service, then "result".
# Exit: 0 all running or absent; 1 failed (service_disabled, start_timeout,
#       start_failed: the first that happened); 3 bad parameters;
#       4 unexpected error.
param([string]$ParamsB64)
trap { Stop-WsusfixOnError $_ }
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WsusfixState.Step = 'start-services'
$P = Read-WsusfixParams $ParamsB64
$services = Get-WsusfixStringList $P 'services' @('wuauserv', 'BITS', 'DoSvc')
$timeout = Get-WsusfixInt $P 'timeout_sec' 60 600
Assert-WsusfixServiceNames $services
[array]::Reverse($services)

Write-WsusfixText ('Starting ' + [string]::Join(', ', $services) + ' (up to ' + $timeout + ' s each).')
$firstReason = ''
$notStarted = New-Object 'System.Collections.Generic.List[string]'
foreach ($name in $services) {
    $reason = Start-WsusfixService -Name $name -TimeoutSec $timeout
    if ($reason -ne '') {
        $notStarted.Add($name)
        if ($firstReason -eq '') { $firstReason = $reason }
    }
}

if ($notStarted.Count -gt 0) {
    $list = [string]::Join(', ', $notStarted.ToArray())
    Complete-Wsusfix -Status 'failed' -Reason $firstReason -Message (
        'did not start: ' + $list + '; Windows Update may stay unavailable until they run')
}
Complete-Wsusfix -Status 'ok' -Message ('running: ' + [string]::Join(', ', $services))

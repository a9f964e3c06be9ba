# wsusfix-script: stop-services
# Step 3 of the KB 910336 repair. Stops Windows Update and the services that
# hold files in SoftwareDistribution, by service name (display names are
# localised), each waited to Stopped under a timeout. A service that is
# already stopped, or not installed (DoSvc before Windows 10), is success.
# Every service is attempted even after one fails, so the report is
# complete; the procedure starts them all again in step 5 regardless.
#
# Parameters: services (default ["wuauserv","BITS","DoSvc"]), timeout_sec per
# service (default 60, at most 600), best_effort: those of the services whose
# refusal to stop only warns (default none; the procedure names DoSvc,
# because whether an administrator can always stop Delivery Optimization on
# Windows 10 1809 and later is not established, and a running DoSvc rarely
# holds SoftwareDistribution: if it does, the rename's retries say so).
# Prints: one "service" line per service (dependents = running services that
# Windows stopped with it), a "warning" (service_not_stopped) per best-effort
# service that did not stop, then "result".
# Exit: 0 all stopped or absent, best-effort ones aside; 1 failed
#       (stop_failed); 3 bad parameters; 4 unexpected error.
param([string]$ParamsB64)
trap { Stop-WsusfixOnError $_ }
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WsusfixState.Step = 'stop-services'
$P = Read-WsusfixParams $ParamsB64
$services = Get-WsusfixStringList $P 'services' @('wuauserv', 'BITS', 'DoSvc')
$timeout = Get-WsusfixInt $P 'timeout_sec' 60 600
$bestEffort = Get-WsusfixStringList $P 'best_effort' @()
Assert-WsusfixServiceNames $services
Assert-WsusfixServiceNames $bestEffort

Write-WsusfixText ('Stopping ' + [string]::Join(', ', $services) + ' (up to ' + $timeout + ' s each).')
$stopped = New-Object 'System.Collections.Generic.List[string]'
$notStopped = New-Object 'System.Collections.Generic.List[string]'
$skipped = New-Object 'System.Collections.Generic.List[string]'
foreach ($name in $services) {
    $ok = Stop-WsusfixService -Name $name -TimeoutSec $timeout
    if ($ok) {
        $stopped.Add($name)
    } elseif ($bestEffort -contains $name) {
        # -contains ignores case, as service names do.
        $skipped.Add($name)
        Write-WsusfixWarning -Code 'service_not_stopped' -Message ($name + ' did not stop; it is stopped only where it can be, so the repair goes on')
    } else {
        $notStopped.Add($name)
    }
}

if ($notStopped.Count -gt 0) {
    $list = [string]::Join(', ', $notStopped.ToArray())
    Complete-Wsusfix -Status 'failed' -Reason 'stop_failed' -Message ('did not stop: ' + $list + '; a reboot may be needed')
}
$message = 'stopped: ' + [string]::Join(', ', $stopped.ToArray())
if ($skipped.Count -gt 0) { $message += '; still running (best effort): ' + [string]::Join(', ', $skipped.ToArray()) }
Complete-Wsusfix -Status 'ok' -Message $message

# wsusfix-script: cleanup
# Step 8 of the KB 910336 repair, optional. Removes the oldest
# SoftwareDistribution.SDTemp-<stamp> folders that earlier repairs left in
# %windir%, keeping the newest ones. It never fails the run: every problem,
# even bad parameters, becomes a "warning" line, and it always exits 0.
# Other folders (the KB's own manual "SDTemp", for one) are not touched.
#
# Parameters: keep (default 1, at most 100): how many of the newest backups
# stay. Below 1 means 1, so the backup this repair made always survives.
# Prints: one "folder" line per backup (path, removed, bytes, detail), then
# "result" (reason "incomplete" when there were warnings).
# Exit: always 0.
param([string]$ParamsB64)
$WsusfixState.NeverFail = $true
trap { Stop-WsusfixOnError $_ }
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WsusfixState.Step = 'cleanup'
$P = Read-WsusfixParams $ParamsB64
$keep = Get-WsusfixInt $P 'keep' 1 100

$windir = [Environment]::GetFolderPath('Windows')
# Only names this tool makes; the stamp's fixed width makes name order time
# order, so the newest sort first.
$backups = @(Get-ChildItem -LiteralPath $windir -Directory -Force |
        Where-Object { $_.Name -match '^SoftwareDistribution\.SDTemp-\d{8}T\d{6}Z\z' } |
        Sort-Object -Property Name -Descending)
Write-WsusfixText ('Found ' + $backups.Count + ' backups of SoftwareDistribution; keeping the newest ' + $keep + '.')

$freed = [long]0
$removed = 0
for ($i = 0; $i -lt $backups.Count; $i++) {
    $path = $backups[$i].FullName
    if ($i -lt $keep) {
        Write-WsusfixLine 'folder' ([ordered]@{ path = $path; removed = $false; bytes = 0; detail = 'kept' })
        continue
    }
    $bytes = [long]0
    try {
        foreach ($f in @(Get-ChildItem -LiteralPath $path -Recurse -Force -File -ErrorAction SilentlyContinue)) { $bytes += $f.Length }
        Remove-Item -LiteralPath $path -Recurse -Force
        $freed += $bytes
        $removed += 1
        Write-WsusfixText ('  removed ' + $path + ' (' + (ConvertTo-WsusfixMB $bytes) + ' MB)')
        Write-WsusfixLine 'folder' ([ordered]@{ path = $path; removed = $true; bytes = $bytes; detail = 'removed' })
    } catch {
        # Long paths and locked files are common here; the rest goes on.
        $message = (Get-WsusfixException $_).Message
        Write-WsusfixLine 'folder' ([ordered]@{ path = $path; removed = $false; bytes = $bytes; detail = $message })
        Write-WsusfixWarning -Code 'remove_failed' -Message ('could not remove ' + $path + ': ' + $message)
    }
}

$message = 'removed ' + $removed + ' old backups, ' + (ConvertTo-WsusfixMB $freed) + ' MB freed'
if ($WsusfixState.Warnings -gt 0) {
    Complete-Wsusfix -Status 'ok' -Reason 'incomplete' -Message ($message + '; see the warnings')
}
Complete-Wsusfix -Status 'ok' -Message $message

# wsusfix-script: save-history
# Step 2 of the KB 910336 repair. Read-only. Reads the host's Windows Update
# history through the Windows Update Agent (COM Microsoft.Update.Session,
# QueryHistory), newest first, so the dashboard can store it: renaming
# SoftwareDistribution in step 4 erases this list on the host.
#
# Parameters: page_size (default 50, at most 200), max (default 500, at most
# 10000): how many entries at most, counted from the newest.
# Prints: one "history" line per page read (entries in the order of
# scripts.HistoryEntry), "warning" lines for pages or entries that could not
# be read, then "result".
# Exit: 0 read (an empty history is fine); 1 history_unreadable (the agent
#       could not be reached or no page could be read); 3 bad parameters;
#       4 unexpected error.
param([string]$ParamsB64)
trap { Stop-WsusfixOnError $_ }
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WsusfixState.Step = 'save-history'
$P = Read-WsusfixParams $ParamsB64
$pageSize = Get-WsusfixInt $P 'page_size' 50 200
$max = Get-WsusfixInt $P 'max' 500 10000

Write-WsusfixText 'Reading the Windows Update history (read-only).'
try {
    $searcher = New-WsusfixUpdateSearcher
    $total = [int]$searcher.GetTotalHistoryCount()
} catch {
    $ex = Get-WsusfixException $_
    $hr = Get-WsusfixHResult $ex
    Write-WsusfixText ('The Windows Update Agent did not answer: ' + $ex.Message)
    Complete-Wsusfix -Status 'failed' -Reason 'history_unreadable' -Message (
        'the update history could not be read: ' + $ex.Message + ' (0x' + $hr.ToString('X8') + ')')
}

if ($total -le 0) {
    # QueryHistory(0, 0) throws WU_E_INVALIDINDEX, so an empty history is
    # reported without asking for a page.
    Write-WsusfixText 'The history is empty.'
    Write-WsusfixLine 'history' ([ordered]@{ page = 0; start = 0; total = 0; entries = @() })
    Complete-Wsusfix -Status 'ok' -Message 'the update history is empty'
}

$want = [Math]::Min($total, $max)
Write-WsusfixText ('The host holds ' + $total + ' entries; reading ' + $want + ', ' + $pageSize + ' at a time.')
$read = 0
$pagesFailed = 0
$page = 0
# Big histories are read in pages: one call for everything hangs on
# Windows 10 2004 and later, and one bad page must not lose the rest.
for ($start = 0; $start -lt $want; $start += $pageSize) {
    $count = [Math]::Min($pageSize, $want - $start)
    try {
        $entries = Get-WsusfixHistoryPage $searcher $start $count
    } catch {
        $ex = Get-WsusfixException $_
        $pagesFailed += 1
        Write-WsusfixWarning -Code 'history_page_unreadable' -Message (
            'entries ' + $start + ' to ' + ($start + $count - 1) + ': ' + $ex.Message)
        $page += 1
        continue
    }
    Write-WsusfixLine 'history' ([ordered]@{ page = $page; start = $start; total = $total; entries = $entries })
    $read += $entries.Count
    $page += 1
}

if ($read -eq 0 -and $pagesFailed -gt 0) {
    Complete-Wsusfix -Status 'failed' -Reason 'history_unreadable' -Message ('no page of the ' + $total + '-entry history could be read')
}
$message = 'read ' + $read + ' of ' + $total + ' history entries'
if ($want -lt $total) { $message += ' (the newest ' + $want + ')' }
Write-WsusfixText ($message + '.')
Complete-Wsusfix -Status 'ok' -Message $message

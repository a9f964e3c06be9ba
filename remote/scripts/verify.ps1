# wsusfix-script: verify
# Step 7 of the KB 910336 repair. Read-only. Looks for evidence that the
# updates which were failing now work; a host counts as repaired only on
# evidence. Sources, strongest first:
#   history   the host's update history since the repair (QueryHistory):
#             the newest install result for the update decides
#   hotfix    the update is listed as installed (Get-HotFix)
#   download  the update has been downloaded again into the new
#             SoftwareDistribution (offline search of the agent's cache);
#             missing downloaded files were the fault KB 910336 fixes
# With no KBs given, the newest result of every update since the repair
# counts, and any update failing again outweighs the rest.
#
# Parameters: since (required, RFC 3339 UTC: when the repair renamed the
# folder), kbs (e.g. ["KB5031364"], may be empty).
# Prints: one "evidence" line per KB (kb, verdict repaired|still_failing|
# unknown, source, date, hresult, title, detail), or one with kb "" when no
# KBs were given; then "result" with the overall verdict (still_failing if
# any is, repaired if all are, else unknown).
# Exit: 0 evidence gathered, whatever the verdict; 1 history_unreadable (no
#       source could be read); 3 bad parameters; 4 unexpected error.
param([string]$ParamsB64)
trap { Stop-WsusfixOnError $_ }
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WsusfixState.Step = 'verify'
$P = Read-WsusfixParams $ParamsB64

# PowerShell 7's ConvertFrom-Json turns ISO dates into DateTime values;
# Windows PowerShell keeps the string.
$sinceValue = Get-WsusfixParam $P 'since'
$since = [datetime]::MinValue
if ($sinceValue -is [datetime]) {
    $since = $sinceValue
    if ($since.Kind -eq [DateTimeKind]::Local) { $since = $since.ToUniversalTime() }
} elseif (-not [datetime]::TryParse([string]$sinceValue, [Globalization.CultureInfo]::InvariantCulture,
        [Globalization.DateTimeStyles]'AdjustToUniversal, AssumeUniversal', [ref]$since)) {
    Complete-Wsusfix -Status 'failed' -Reason 'bad_params' -Message 'since must be an RFC 3339 time such as 2026-11-23T22:45:01Z'
}
$sinceText = Format-WsusfixDate $since
$kbs = New-Object 'System.Collections.Generic.List[string]'
foreach ($kb in (Get-WsusfixStringList $P 'kbs' $null)) {
    if ($kb -notmatch '^KB\d{1,8}\z') {
        Complete-Wsusfix -Status 'failed' -Reason 'bad_params' -Message 'every kbs entry must look like KB5031364'
    }
    $kbs.Add($kb.ToUpperInvariant())
}

Write-WsusfixText ('Looking for evidence since ' + $sinceText + '.')
$sources = 0

# History since the repair, newest first. Dates are compared as text: both
# sides have the same fixed UTC format, and ordinal order is time order.
$entries = New-Object 'System.Collections.Generic.List[object]'
try {
    $searcher = New-WsusfixUpdateSearcher
    $total = [int]$searcher.GetTotalHistoryCount()
    for ($start = 0; $start -lt [Math]::Min($total, 500); $start += 50) {
        $page = Get-WsusfixHistoryPage $searcher $start ([Math]::Min(50, $total - $start))
        foreach ($e in $page) {
            if ($null -ne $e.date -and [string]::CompareOrdinal([string]$e.date, $sinceText) -ge 0) { $entries.Add($e) }
        }
    }
    $sources += 1
    Write-WsusfixText ([string]$entries.Count + ' history entries since then.')
} catch {
    Write-WsusfixWarning -Code 'history_unreadable' -Message ('update history: ' + (Get-WsusfixException $_).Message)
}

$hotfixes = @{}
try {
    foreach ($h in @(Get-HotFix)) { $hotfixes[[string]$h.HotFixID] = $true }
    $sources += 1
} catch {
    Write-WsusfixWarning -Code 'hotfix_unreadable' -Message ('installed updates: ' + (Get-WsusfixException $_).Message)
}

# An offline search reads what the detect step fetched; it does not contact
# the server. Hashtable keys are case-insensitive.
$downloaded = @{}
try {
    $offline = New-WsusfixUpdateSearcher
    $offline.Online = $false
    $result = $offline.Search('IsInstalled=0 and IsHidden=0')
    for ($i = 0; $i -lt $result.Updates.Count; $i++) {
        $u = $result.Updates.Item($i)
        if ($u.IsDownloaded) {
            foreach ($id in @($u.KBArticleIDs)) { $downloaded['KB' + [string]$id] = [string]$u.Title }
        }
    }
    $sources += 1
} catch {
    Write-WsusfixWarning -Code 'search_unavailable' -Message ('downloaded updates: ' + (Get-WsusfixException $_).Message)
}

if ($sources -eq 0) {
    Complete-Wsusfix -Status 'failed' -Reason 'history_unreadable' -Message 'no source of evidence could be read'
}

function Write-Evidence {
    param([string]$Kb, [string]$Verdict, [string]$Source, $Date, $HResult, [string]$Title, [string]$Detail)
    Write-WsusfixText ('  ' + $Kb + ' ' + $Verdict + ': ' + $Detail)
    Write-WsusfixLine 'evidence' ([ordered]@{
            kb      = $Kb
            verdict = $Verdict
            source  = $Source
            date    = $Date
            hresult = ConvertTo-WsusfixUInt32 $HResult
            title   = $Title
            detail  = $Detail
        })
    return $Verdict
}

$verdicts = New-Object 'System.Collections.Generic.List[string]'
if ($kbs.Count -eq 0) {
    # No KBs: each update's newest finished result since the repair counts,
    # and one update still failing outweighs any that now install.
    $decided = @{}
    $failure = $null
    $success = $null
    foreach ($e in $entries) {
        $id = [string]$e.update_id + '|' + [string]$e.title
        if ($e.result_code -lt 2 -or $e.result_code -gt 5 -or $decided.ContainsKey($id)) { continue }
        $decided[$id] = $true
        if ($e.result_code -ge 4) {
            if ($null -eq $failure) { $failure = $e }
        } elseif ($e.operation -eq 'installation' -and $null -eq $success) {
            $success = $e
        }
    }
    if ($null -ne $failure) {
        $v = Write-Evidence '' 'still_failing' 'history' $failure.date $failure.hresult $failure.title ('failed again: ' + $failure.title)
    } elseif ($null -ne $success) {
        $v = Write-Evidence '' 'repaired' 'history' $success.date 0 $success.title ('installed: ' + $success.title)
    } else {
        $v = Write-Evidence '' 'unknown' '' $null 0 '' 'no install result since the repair yet'
    }
    $verdicts.Add($v)
}
foreach ($kb in $kbs) {
    # The newest finished install result for this KB decides.
    $latest = $null
    foreach ($e in $entries) {
        if ($e.kb -eq $kb -and $e.result_code -ge 2 -and $e.result_code -le 5) { $latest = $e; break }
    }
    if ($null -ne $latest -and ($latest.result_code -eq 4 -or $latest.result_code -eq 5)) {
        $v = Write-Evidence $kb 'still_failing' 'history' $latest.date $latest.hresult $latest.title ('failed again at ' + $latest.date)
    } elseif ($null -ne $latest -and $latest.operation -eq 'installation') {
        $v = Write-Evidence $kb 'repaired' 'history' $latest.date 0 $latest.title ('installed at ' + $latest.date)
    } elseif ($hotfixes.ContainsKey($kb)) {
        $v = Write-Evidence $kb 'repaired' 'hotfix' $null 0 '' 'listed as installed'
    } elseif ($downloaded.ContainsKey($kb)) {
        $v = Write-Evidence $kb 'repaired' 'download' $null 0 $downloaded[$kb] 'downloaded again; installation pending'
    } else {
        $v = Write-Evidence $kb 'unknown' '' $null 0 '' 'no sign yet: not installed, not downloaded, no new result'
    }
    $verdicts.Add($v)
}

$overall = 'unknown'
if ($verdicts.Contains('still_failing')) { $overall = 'still_failing' }
elseif (-not $verdicts.Contains('unknown')) { $overall = 'repaired' }
Write-WsusfixText ('Verdict: ' + $overall + '.')
Complete-Wsusfix -Status 'ok' -Message ('verdict: ' + $overall) -Extra ([ordered]@{ verdict = $overall })

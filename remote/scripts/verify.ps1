# wsusfix-script: verify
# Step 7 of the KB 910336 repair. Read-only. Looks for evidence that the
# updates which were failing now install; a host counts as repaired only on
# an installation that succeeded after the rename, by this host's own clock.
# Sources:
#   history   the host's update history since the rename (QueryHistory):
#             the newest install result for the update decides
#   download  the update has been downloaded again into the new
#             SoftwareDistribution (offline search of the agent's cache).
#             0x80070002 and 0x80070003 fail at install time, so a download
#             proves nothing: it is a verdict of its own, "downloaded".
#   hotfix    Get-HotFix lists the update, with a date only: it cannot tell
#             an install after the rename from one before, so it is shown
#             and never counts as a repair.
# An update is matched by KB number or by update id. With none given, an
# update of a kind that had failed counts (the title without month, KB and
# version, so a newer cumulative update that supersedes the failed one
# counts too), or any update when no kind is given either; never definition
# updates (Microsoft Defender's KB2267602 installs several times a day, and
# would otherwise supply a success on almost every host); and one update
# failing again outweighs the rest.
#
# Parameters: since (required, RFC 3339 UTC: the rename's time as this host
# reported it), kbs (e.g. ["KB5031364"]) and update_ids (GUIDs), and, used
# only when both are empty, kinds (as UpdateKind gives them); all may be
# empty.
# Prints: one "evidence" line per KB or update id (kb, update_id, verdict
# repaired|still_failing|downloaded|unknown, source, date, hresult, title,
# detail), or, when none were given, one for the update that decided (kb and
# update_id of that update, or empty); then "result" with the overall
# verdict: still_failing if any is, repaired if all are, downloaded if the
# rest are repaired or downloaded, else unknown.
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

# Targets: one per KB, then one per update id, each a pair of a KB ('' for
# an id) and an id ('' for a KB). The procedure passes the ids of the KBs it
# names, which then reach the same verdict as their KB.
$targets = New-Object 'System.Collections.Generic.List[object]'
foreach ($kb in (Get-WsusfixStringList $P 'kbs' $null)) {
    if ($kb -notmatch '^KB\d{1,8}\z') {
        Complete-Wsusfix -Status 'failed' -Reason 'bad_params' -Message 'every kbs entry must look like KB5031364'
    }
    $targets.Add(@{ Kb = $kb.ToUpperInvariant(); Id = '' })
}
foreach ($id in (Get-WsusfixStringList $P 'update_ids' $null)) {
    if ($id -notmatch '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\z') {
        Complete-Wsusfix -Status 'failed' -Reason 'bad_params' -Message 'every update_ids entry must be a GUID'
    }
    $targets.Add(@{ Kb = ''; Id = $id.ToLowerInvariant() })
}

function Test-DefinitionUpdate {
    param([string]$Kb, [string]$Title)
    # Defender's security intelligence (KB2267602), the older Defender and
    # Security Essentials definitions (KB915597, KB2461484), by KB or title.
    if ($Kb -eq 'KB2267602' -or $Kb -eq 'KB915597' -or $Kb -eq 'KB2461484') { return $true }
    return ($Title -match 'Security Intelligence Update|Definition Update')
}

# Kinds: when no update is named, the kinds of the updates that had failed
# (UpdateKind in Go): a success of the same kind counts, so a newer
# cumulative update that supersedes the failed one is evidence too.
$kinds = New-Object 'System.Collections.Generic.List[string]'
foreach ($k in (Get-WsusfixStringList $P 'kinds' $null)) {
    if ($k.Length -gt 300 -or $kinds.Count -ge 50) {
        Complete-Wsusfix -Status 'failed' -Reason 'bad_params' -Message 'kinds holds too many or too long entries'
    }
    $kinds.Add($k)
}

function Get-UpdateKind {
    param([string]$Title)
    # The title without what changes from release to release: the month
    # prefix, the KB, the version. Mirrors scripts.UpdateKind in Go.
    $t = $Title -replace '^\d{4}-\d{2} ', '' -replace '\(KB\d+\)', '' -replace '\(Version [^)]*\)', '' -replace ' - v[0-9.]+', ''
    return ($t -replace '\s+', ' ').Trim().ToLowerInvariant()
}

function Test-Kind {
    param([string]$Title)
    if ($kinds.Count -eq 0) { return $true }
    return $kinds.Contains((Get-UpdateKind $Title))
}

function Test-Target {
    param($Target, [string]$Kb, [string]$Id)
    if ($Target.Kb -ne '' -and $Target.Kb -eq $Kb) { return $true }
    return ($Target.Id -ne '' -and $Target.Id -eq $Id.ToLowerInvariant())
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
# the server. Each downloaded update as its KBs, its id and its title.
$downloaded = New-Object 'System.Collections.Generic.List[object]'
try {
    $offline = New-WsusfixUpdateSearcher
    $offline.Online = $false
    $result = $offline.Search('IsInstalled=0 and IsHidden=0')
    for ($i = 0; $i -lt $result.Updates.Count; $i++) {
        $u = $result.Updates.Item($i)
        if ($u.IsDownloaded) {
            $ukbs = New-Object 'System.Collections.Generic.List[string]'
            foreach ($n in @($u.KBArticleIDs)) { $ukbs.Add('KB' + [string]$n) }
            $downloaded.Add(@{ Kbs = $ukbs; Id = [string]$u.Identity.UpdateID; Title = [string]$u.Title })
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
    param([string]$Kb, [string]$Verdict, [string]$Source, $Date, $HResult, [string]$Title, [string]$Detail, [string]$UpdateId = '')
    $name = $Kb
    if ($name -eq '') { $name = $UpdateId }
    Write-WsusfixText ('  ' + $name + ' ' + $Verdict + ': ' + $Detail)
    Write-WsusfixLine 'evidence' ([ordered]@{
            kb        = $Kb
            update_id = $UpdateId
            verdict   = $Verdict
            source    = $Source
            date      = $Date
            hresult   = ConvertTo-WsusfixUInt32 $HResult
            title     = $Title
            detail    = $Detail
        })
    return $Verdict
}

function Find-Download {
    param($Target)
    foreach ($d in $downloaded) {
        foreach ($k in $d.Kbs) {
            if (Test-Target $Target $k $d.Id) { return $d }
        }
        if ($d.Kbs.Count -eq 0 -and (Test-Target $Target '' $d.Id)) { return $d }
    }
    return $null
}

$verdicts = New-Object 'System.Collections.Generic.List[string]'
if ($targets.Count -eq 0) {
    # No update named: each update's newest finished result since the
    # rename counts if it is of a kind that had failed (any kind when none
    # is given), definition updates aside, and one update still failing
    # outweighs any that now install.
    $decided = @{}
    $failure = $null
    $success = $null
    $skippedDefinitions = 0
    foreach ($e in $entries) {
        $id = [string]$e.update_id + '|' + [string]$e.title
        if ($e.result_code -lt 2 -or $e.result_code -gt 5 -or $decided.ContainsKey($id)) { continue }
        $decided[$id] = $true
        if (Test-DefinitionUpdate ([string]$e.kb) ([string]$e.title)) { $skippedDefinitions += 1; continue }
        if (-not (Test-Kind ([string]$e.title))) { continue }
        if ($e.result_code -ge 4) {
            if ($null -eq $failure) { $failure = $e }
        } elseif ($e.operation -eq 'installation' -and $null -eq $success) {
            $success = $e
        }
    }
    $fresh = $null
    foreach ($d in $downloaded) {
        $dkb = ''
        if ($d.Kbs.Count -gt 0) { $dkb = $d.Kbs[0] }
        if ($null -eq $fresh -and -not (Test-DefinitionUpdate $dkb $d.Title) -and (Test-Kind $d.Title)) { $fresh = $d }
    }
    if ($null -ne $failure) {
        $v = Write-Evidence $failure.kb 'still_failing' 'history' $failure.date $failure.hresult $failure.title ('failed again: ' + $failure.title) $failure.update_id
    } elseif ($null -ne $success) {
        $v = Write-Evidence $success.kb 'repaired' 'history' $success.date 0 $success.title ('installed: ' + $success.title) $success.update_id
    } elseif ($null -ne $fresh) {
        $v = Write-Evidence '' 'downloaded' 'download' $null 0 $fresh.Title ('downloaded; install not yet attempted: ' + $fresh.Title) $fresh.Id
    } else {
        $detail = 'no install result since the repair yet'
        if ($skippedDefinitions -gt 0) { $detail += ' (definition updates installed, which prove nothing)' }
        $v = Write-Evidence '' 'unknown' '' $null 0 '' $detail
    }
    $verdicts.Add($v)
}
foreach ($target in $targets) {
    # The newest finished install result for this update decides.
    $latest = $null
    foreach ($e in $entries) {
        if ((Test-Target $target ([string]$e.kb) ([string]$e.update_id)) -and $e.result_code -ge 2 -and $e.result_code -le 5) { $latest = $e; break }
    }
    $download = Find-Download $target
    if ($null -ne $latest -and ($latest.result_code -eq 4 -or $latest.result_code -eq 5)) {
        $v = Write-Evidence $target.Kb 'still_failing' 'history' $latest.date $latest.hresult $latest.title ('failed again at ' + $latest.date) $target.Id
    } elseif ($null -ne $latest -and $latest.operation -eq 'installation') {
        $v = Write-Evidence $target.Kb 'repaired' 'history' $latest.date 0 $latest.title ('installed at ' + $latest.date) $target.Id
    } elseif ($null -ne $download) {
        $v = Write-Evidence $target.Kb 'downloaded' 'download' $null 0 $download.Title 'downloaded; install not yet attempted' $target.Id
    } elseif ($target.Kb -ne '' -and $hotfixes.ContainsKey($target.Kb)) {
        $v = Write-Evidence $target.Kb 'unknown' 'hotfix' $null 0 '' 'listed as installed, but with no install since the repair: it may predate it' $target.Id
    } else {
        $v = Write-Evidence $target.Kb 'unknown' '' $null 0 '' 'no sign yet: not installed, not downloaded, no new result' $target.Id
    }
    $verdicts.Add($v)
}

$overall = 'unknown'
if ($verdicts.Contains('still_failing')) { $overall = 'still_failing' }
elseif ($verdicts.Contains('unknown')) { $overall = 'unknown' }
elseif ($verdicts.Contains('downloaded')) { $overall = 'downloaded' }
else { $overall = 'repaired' }
# The message is for people; the verdict key travels beside it.
$words = @{ repaired = 'repaired: the update that failed has installed since the reset';
    still_failing = 'still failing: the update failed again after the reset';
    downloaded = 'downloaded again, not installed yet'; unknown = 'no evidence yet either way' }
Write-WsusfixText ('Verdict: ' + $words[$overall] + '.')
Complete-Wsusfix -Status 'ok' -Message $words[$overall] -Extra ([ordered]@{ verdict = $overall })

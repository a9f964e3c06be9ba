# A valid script using the constructs remote/scripts relies on; the check
# must accept it.
param([string]$ParamsB64)
trap { Write-Output $_; exit 4 }
$ErrorActionPreference = 'Stop'
$state = @{ Step = ''; Count = 0 }
$line = [ordered]@{ kind = 'check'; ok = $true; list = @('a', 'b') }
function Get-Thing {
    param([string]$Name, [int]$Max = 3)
    switch ($Max) {
        0 { return 'none' }
        default { return $Name }
    }
}
for ($i = 0; $i -lt 3; $i++) {
    try { [IO.Directory]::Move('a', 'b') } catch { $state.Count += 1; continue }
}
$p = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($ParamsB64)) | ConvertFrom-Json
& { param($x) "got $x" } @args
exit 0

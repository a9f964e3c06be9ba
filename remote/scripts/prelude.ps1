# wsusfix-prelude
# Shared functions. The Go side (scripts.Payload) puts this file and
# prelude-host.ps1 before every step's script, and the step then runs in a
# child scope, so everything defined here is visible to it. Targets Windows PowerShell 5.1 and
# PowerShell 7, and stays within PowerShell 3.0 / .NET Framework 4.5 where
# that costs nothing.
#
# Output contract, mirrored by scripts.FormatLine and scripts.ParseLine in Go:
# a result line is 'WSUSFIX ' and one compact JSON object, on one line.
#   - Keys appear in the order given; values are strings, integers,
#     true/false, null, arrays and objects; dates are UTC strings
#     "yyyy-MM-ddTHH:mm:ssZ".
#   - ASCII only: '"', '\' and control characters are escaped as Go's
#     encoding/json escapes them (\" \\ \b \f \n \r \t, others \u00xx), and
#     every character from 0x7F up as \uxxxx (lower-case hex, UTF-16 code
#     units). ConvertTo-Json cannot be used: 5.1 emits non-ASCII as is.
#     The WinRM code page can then never garble a line, and no value from
#     the host (an update title, an error message) can start a new line.
#   - Every line is flushed as it is written, so the dashboard shows it while
#     the step is still running.
# Lines for people are written with Write-WsusfixText.

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

# The prelude's only state. A hashtable is a reference, so functions can
# change it from any scope; $script: would mean different things in a script
# file and in the script block the bootstrap creates.
$WsusfixState = @{
    Step       = ''      # each script sets its name before printing anything
    NeverFail  = $false  # cleanup: failures become warnings and exit 0
    Warnings   = 0
    LineOffset = 0       # lines before the step's first; see the prelude's end
}

# Service names are checked before use: they reach Get-Service (which
# expands wildcards) and a registry path.
$WsusfixServiceNamePattern = '^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,79}\z'

# ---- JSON and output -------------------------------------------------------

function ConvertTo-WsusfixJsonString {
    param([string]$Text)
    # Most values need no escaping. \z, not $: $ would also match before a
    # final newline and let it through unescaped.
    if ($Text -cmatch '^[\x20\x21\x23-\x5B\x5D-\x7E]*\z') {
        return '"' + $Text + '"'
    }
    $sb = New-Object System.Text.StringBuilder ($Text.Length + 16)
    [void]$sb.Append('"')
    foreach ($ch in $Text.ToCharArray()) {
        $n = [int]$ch
        if ($n -eq 0x22) { [void]$sb.Append('\"') }
        elseif ($n -eq 0x5C) { [void]$sb.Append('\\') }
        elseif ($n -eq 0x08) { [void]$sb.Append('\b') }
        elseif ($n -eq 0x0C) { [void]$sb.Append('\f') }
        elseif ($n -eq 0x0A) { [void]$sb.Append('\n') }
        elseif ($n -eq 0x0D) { [void]$sb.Append('\r') }
        elseif ($n -eq 0x09) { [void]$sb.Append('\t') }
        elseif ($n -lt 0x20 -or $n -ge 0x7F) { [void]$sb.Append('\u').Append($n.ToString('x4')) }
        else { [void]$sb.Append($ch) }
    }
    [void]$sb.Append('"')
    return $sb.ToString()
}

function ConvertTo-WsusfixJson {
    param($Value)
    if ($null -eq $Value) { return 'null' }
    if ($Value -is [string]) { return ConvertTo-WsusfixJsonString $Value }
    if ($Value -is [bool]) {
        if ($Value) { return 'true' }
        return 'false'
    }
    if ($Value -is [datetime]) {
        $text = Format-WsusfixDate $Value
        if ($null -eq $text) { return 'null' }
        return ConvertTo-WsusfixJsonString $text
    }
    if ($Value -is [enum] -or $Value -is [char] -or $Value -is [guid]) {
        return ConvertTo-WsusfixJsonString ([string]$Value)
    }
    if ($Value -is [int] -or $Value -is [long] -or $Value -is [uint32] -or $Value -is [uint64] -or
        $Value -is [int16] -or $Value -is [uint16] -or $Value -is [byte] -or $Value -is [sbyte]) {
        return $Value.ToString([Globalization.CultureInfo]::InvariantCulture)
    }
    if ($Value -is [double] -or $Value -is [single] -or $Value -is [decimal]) {
        # The schema has integers only; a fraction is rounded rather than
        # printed in the host culture's format ("1,5").
        return ([long][Math]::Round([double]$Value)).ToString([Globalization.CultureInfo]::InvariantCulture)
    }
    $parts = New-Object 'System.Collections.Generic.List[string]'
    # Dictionaries before enumerables: a dictionary is both.
    if ($Value -is [System.Collections.IDictionary]) {
        foreach ($key in $Value.Keys) {
            $item = $Value[$key]
            $parts.Add((ConvertTo-WsusfixJsonString ([string]$key)) + ':' + (ConvertTo-WsusfixJson $item))
        }
        return '{' + [string]::Join(',', $parts.ToArray()) + '}'
    }
    if ($Value -is [System.Collections.IEnumerable]) {
        foreach ($item in $Value) {
            $parts.Add((ConvertTo-WsusfixJson $item))
        }
        return '[' + [string]::Join(',', $parts.ToArray()) + ']'
    }
    return ConvertTo-WsusfixJsonString ([string]$Value)
}

function Format-WsusfixDate {
    param($Date)
    # Returns "yyyy-MM-ddTHH:mm:ssZ", or $null for no date. WUA and WSUS hand
    # out UTC values of kind Unspecified; only a Local value is converted.
    # Years up to 1900 are how WUA and WSUS say "never".
    if ($null -eq $Date) { return $null }
    $d = [datetime]$Date
    if ($d.Year -le 1900) { return $null }
    if ($d.Kind -eq [DateTimeKind]::Local) { $d = $d.ToUniversalTime() }
    return $d.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", [Globalization.CultureInfo]::InvariantCulture)
}

function Write-WsusfixLine {
    param([string]$Kind, [System.Collections.IDictionary]$Fields)
    $line = [ordered]@{}
    $line['kind'] = $Kind
    $line['step'] = $WsusfixState.Step
    $line['ts'] = Format-WsusfixDate ([DateTime]::UtcNow)
    if ($null -ne $Fields) {
        foreach ($key in $Fields.Keys) { $line[$key] = $Fields[$key] }
    }
    [Console]::Out.WriteLine('WSUSFIX ' + (ConvertTo-WsusfixJson $line))
    [Console]::Out.Flush()
}

function Format-WsusfixCount {
    param([int]$Count, [string]$Noun)
    # "1 update", "3 updates": counts read right to people.
    if ($Count -eq 1) { return '1 ' + $Noun }
    return [string]$Count + ' ' + $Noun + 's'
}

function Write-WsusfixText {
    param([string]$Text)
    # Lines for people. Text can quote host data (titles, error messages);
    # a line that began with the result tag would be taken for a result, so
    # the tag is broken up wherever it appears.
    foreach ($part in ($Text -split "`r?`n")) {
        [Console]::Out.WriteLine($part.Replace('WSUSFIX ', 'WSUSFIX: '))
    }
    [Console]::Out.Flush()
}

function Write-WsusfixWarning {
    param([string]$Code, [string]$Message)
    $WsusfixState.Warnings += 1
    Write-WsusfixText ('Warning: ' + $Message)
    Write-WsusfixLine 'warning' ([ordered]@{ code = $Code; message = $Message })
}

function Complete-Wsusfix {
    # Prints the step's one "result" line and ends the process. Exit codes
    # (scripts.Exit* in Go): 0 ok or skipped, 1 failed, 2 refused,
    # 3 bad parameters, 4 unexpected error.
    param(
        [string]$Status,
        [string]$Reason = '',
        [string]$Message = '',
        [System.Collections.IDictionary]$Extra = $null
    )
    if ($WsusfixState.NeverFail -and $Status -ne 'ok' -and $Status -ne 'skipped') {
        Write-WsusfixWarning -Code $Reason -Message $Message
        $Status = 'ok'
        $Reason = 'incomplete'
    }
    $fields = [ordered]@{ status = $Status; reason = $Reason; message = $Message }
    if ($null -ne $Extra) {
        foreach ($key in $Extra.Keys) { $fields[$key] = $Extra[$key] }
    }
    Write-WsusfixLine 'result' $fields
    $code = 0
    if ($Status -eq 'refused') { $code = 2 }
    elseif ($Status -eq 'failed') {
        $code = 1
        if ($Reason -eq 'bad_params') { $code = 3 }
        elseif ($Reason -eq 'unexpected_error') { $code = 4 }
    }
    exit $code
}

# ---- errors ----------------------------------------------------------------

function Get-WsusfixException {
    param($ErrorRecord)
    $ex = $ErrorRecord
    if ($ex -is [System.Management.Automation.ErrorRecord]) { $ex = $ex.Exception }
    # PowerShell wraps what .NET and COM methods and properties throw; the
    # inner exception has the real type, message and HRESULT.
    while ($null -ne $ex.InnerException -and
        ($ex -is [System.Management.Automation.MethodException] -or
         $ex -is [System.Management.Automation.ExtendedTypeSystemException])) {
        $ex = $ex.InnerException
    }
    return $ex
}

function ConvertTo-WsusfixUInt32 {
    param($Number)
    # HRESULTs come as signed Int32; the dashboard stores them unsigned.
    # 4294967295 is written in decimal because PowerShell reads 0xFFFFFFFF
    # as the Int32 -1.
    if ($null -eq $Number) { return [uint32]0 }
    return [uint32]([long]$Number -band 4294967295)
}

function ConvertFrom-WsusfixHex {
    param([string]$Hex)
    # Hex literals above 0x7FFFFFFF are negative Int32s in PowerShell, so
    # HRESULT constants are written as strings and converted here.
    return [Convert]::ToUInt32($Hex, 16)
}

function ConvertTo-WsusfixMB {
    param($Bytes)
    # Whole megabytes, rounded down. 1048576 rather than 1MB: the grammar
    # the CI syntax check uses misreads "1MB)".
    return [long][Math]::Floor([double]$Bytes / 1048576)
}

function Get-WsusfixHResult {
    param($Exception)
    # Exception.HResult is public only from .NET 4.5: on PowerShell 3.0 with
    # .NET 4.0 (Windows 7, Server 2008 R2) it reads as nothing, and a retry
    # keyed on it would never trigger. COMException, which every Windows
    # Update Agent failure is, carries the code as ExternalException.ErrorCode
    # on every version; for other exceptions (IOException for a lock) the
    # property is there but protected, and reflection reads it on 4.0 too.
    if ($null -eq $Exception) { return [uint32]0 }
    if ($Exception -is [System.Runtime.InteropServices.ExternalException]) {
        return ConvertTo-WsusfixUInt32 $Exception.ErrorCode
    }
    $hr = $null
    try {
        $flags = [Reflection.BindingFlags]'Instance, Public, NonPublic'
        $hr = [Exception].GetProperty('HResult', $flags).GetValue($Exception, $null)
    } catch { $hr = $null }
    return ConvertTo-WsusfixUInt32 $hr
}

function Stop-WsusfixOnError {
    param($ErrorRecord)
    # The trap handler of every script: an error nobody handled becomes a
    # "failed" result with reason unexpected_error (exit 4), never a silent
    # half-run.
    $ex = Get-WsusfixException $ErrorRecord
    # Line numbers count from the start of the block the bootstrap runs,
    # which the prelude begins; LineOffset (set at the prelude's end) turns
    # them into the step script's own lines, as in its .ps1 file.
    $where = ''
    if ($null -ne $ErrorRecord.InvocationInfo) {
        $n = [int]$ErrorRecord.InvocationInfo.ScriptLineNumber
        if ($n -gt $WsusfixState.LineOffset) {
            $where = ' (' + $WsusfixState.Step + '.ps1 line ' + ($n - $WsusfixState.LineOffset) + ')'
        } elseif ($n -gt 0) {
            $where = ' (prelude line ' + $n + ')'
        }
    }
    $message = $ex.Message + $where
    Write-WsusfixText ('Unexpected error: ' + $message)
    Complete-Wsusfix -Status 'failed' -Reason 'unexpected_error' -Message $message
}

# ---- parameters ------------------------------------------------------------

function Read-WsusfixParams {
    param([string]$ParamsB64)
    # The only way parameters reach a script: base64 of UTF-8 JSON, decoded
    # here into plain data. No value is ever parsed as code.
    $p = $null
    try {
        $p = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($ParamsB64)) | ConvertFrom-Json
    } catch {
        $ex = Get-WsusfixException $_
        Complete-Wsusfix -Status 'failed' -Reason 'bad_params' -Message ('the parameters are not base64-encoded JSON: ' + $ex.Message)
    }
    if ($p -isnot [System.Management.Automation.PSCustomObject]) {
        Complete-Wsusfix -Status 'failed' -Reason 'bad_params' -Message 'the parameters are not a JSON object'
    }
    return $p
}

function Get-WsusfixParam {
    param($Params, [string]$Name)
    $prop = $Params.PSObject.Properties[$Name]
    if ($null -eq $prop) { return $null }
    return $prop.Value
}

function Get-WsusfixInt {
    param($Params, [string]$Name, [int]$Default, [int]$Max)
    # Zero, negative or missing means the default; larger than Max is capped,
    # so a caller's mistake cannot make a step wait for hours.
    $value = Get-WsusfixParam $Params $Name
    $n = 0
    if ($null -ne $value) {
        try { $n = [long]$value } catch {
            Complete-Wsusfix -Status 'failed' -Reason 'bad_params' -Message ('parameter ' + $Name + ' is not a number')
        }
    }
    if ($n -le 0) { return $Default }
    if ($n -gt $Max) { return $Max }
    return [int]$n
}

function Get-WsusfixString {
    param($Params, [string]$Name)
    $value = Get-WsusfixParam $Params $Name
    if ($null -eq $value) { return '' }
    return [string]$value
}

function Get-WsusfixStringList {
    param($Params, [string]$Name, [string[]]$Default)
    $list = New-Object 'System.Collections.Generic.List[string]'
    $value = Get-WsusfixParam $Params $Name
    if ($null -ne $value) {
        foreach ($item in @($value)) {
            if ($null -ne $item -and [string]$item -ne '') { $list.Add([string]$item) }
        }
    }
    if ($list.Count -eq 0 -and $null -ne $Default) {
        foreach ($item in $Default) { $list.Add($item) }
    }
    # The comma keeps PowerShell from unrolling a one-element array.
    return , $list.ToArray()
}

function Assert-WsusfixServiceNames {
    param([string[]]$Names)
    foreach ($name in $Names) {
        if ($name -notmatch $WsusfixServiceNamePattern) {
            Complete-Wsusfix -Status 'failed' -Reason 'bad_params' -Message 'a service name holds characters no service name has'
        }
    }
}

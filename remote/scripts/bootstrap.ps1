# wsusfix-bootstrap
# The fixed program behind scripts.Bootstrap (powershell.exe -EncodedCommand).
# stdin carries the step: line 1 is its parameters (base64 of UTF-8 JSON),
# the rest is the script, run as a script block with the parameters as its
# one argument. This text never changes, so the command line never carries a
# script or a value, and no step is bound by cmd.exe's 8191 characters.
# Written for PowerShell 2.0 too, so an old host gets a clear refusal rather
# than a parse error. It prints to stdout only: stderr holds PowerShell's
# own CLIXML document, which text of ours would garble (scripts.go).
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# $input enumerates stdin line by line. All of it is read first, so the
# client has finished sending before anything can fail.
$lines = @($input)
# Then the language mode, before anything it would refuse ([Console], COM);
# a bare string is output constrained language allows (scripts.go).
if ($ExecutionContext.SessionState.LanguageMode -ne 'FullLanguage') {
    'WSUSFIX {"kind":"result","step":"bootstrap","status":"refused","reason":"constrained_language","message":"PowerShell runs in Constrained Language Mode on this host: an application control policy (WDAC or AppLocker) limits it, and the repair needs full language"}'
    exit 2
}
if ($PSVersionTable.PSVersion.Major -lt 3) {
    [Console]::Out.WriteLine('WSUSFIX {"kind":"result","step":"bootstrap","status":"refused","reason":"ps_too_old","message":"PowerShell 3.0 or later is required"}')
    exit 2
}
if ($lines.Count -lt 2) {
    [Console]::Out.WriteLine('WSUSFIX {"kind":"result","step":"bootstrap","status":"failed","reason":"bad_payload","message":"stdin did not hold parameters and a script"}')
    exit 3
}
try {
    $block = [ScriptBlock]::Create([string]::Join("`n", [string[]]$lines, 1, $lines.Count - 1))
    # Every script ends with exit, which ends this process with its code.
    & $block ([string]$lines[0]).Trim()
} catch {
    # The tag is broken up: the text must never pose as a result line.
    [Console]::Out.WriteLine(('wsusfix bootstrap: ' + $_.Exception.Message).Replace('WSUSFIX ', 'WSUSFIX: '))
    [Console]::Out.WriteLine('WSUSFIX {"kind":"result","step":"bootstrap","status":"failed","reason":"unexpected_error","message":"the step stopped on an error it did not handle; see its output"}')
    exit 4
}
[Console]::Out.WriteLine('WSUSFIX {"kind":"result","step":"bootstrap","status":"failed","reason":"unexpected_error","message":"the step ended without a result"}')
exit 4

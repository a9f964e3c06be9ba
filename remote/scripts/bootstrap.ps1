# wsusfix-bootstrap
# The fixed program behind scripts.Bootstrap (powershell.exe -EncodedCommand).
# stdin carries the step: line 1 is its parameters (base64 of UTF-8 JSON),
# the rest is the script, run as a script block with the parameters as its
# one argument. This text never changes, so the command line never carries a
# script or a value, and no step is bound by cmd.exe's 8191 characters.
# Written for PowerShell 2.0 too, so an old host gets a clear refusal rather
# than a parse error.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# $input enumerates stdin line by line. All of it is read first, so the
# client has finished sending before anything can fail.
$lines = @($input)
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
    [Console]::Error.WriteLine('wsusfix bootstrap: ' + $_.Exception.Message)
    [Console]::Out.WriteLine('WSUSFIX {"kind":"result","step":"bootstrap","status":"failed","reason":"unexpected_error","message":"the step stopped on an error it did not handle; see stderr"}')
    exit 4
}
[Console]::Out.WriteLine('WSUSFIX {"kind":"result","step":"bootstrap","status":"failed","reason":"unexpected_error","message":"the step ended without a result"}')
exit 4

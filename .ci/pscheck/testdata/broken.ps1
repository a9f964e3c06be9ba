# Deliberately broken: the check must reject this file. The function's
# body is never closed and a string never ends.
function Get-Thing {
    param([string]$Name
    if ($Name -eq 'x') {
        return 'unterminated
}

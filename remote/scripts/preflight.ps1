# wsusfix-script: preflight
# Step 1 of the KB 910336 repair. Read-only: it changes nothing on the host.
# It decides whether the host is fit to be repaired, and refuses with a reason
# code rather than let a later step half-repair it.
#
# Parameters: min_free_gb (default 10, at most 1000).
# Prints: one "facts" line, one "check" line per check, "warning" lines for
# signs that do not refuse (trustedinstaller_running, pending_file_renames),
# then "result".
# Exit: 0 every check passed; 2 refused (reason = the first failed check:
#       not_admin, not_64bit, ps_too_old, os_unsupported, low_disk,
#       service_missing, service_disabled, install_in_progress,
#       reboot_pending); 3 bad parameters; 4 unexpected error.
param([string]$ParamsB64)
trap { Stop-WsusfixOnError $_ }
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WsusfixState.Step = 'preflight'
$P = Read-WsusfixParams $ParamsB64
$minFreeGB = Get-WsusfixInt $P 'min_free_gb' 10 1000

$failed = New-Object 'System.Collections.Generic.List[object]'

function Add-PreflightCheck {
    param([string]$Name, [bool]$Ok, [string]$Reason, [string]$Detail)
    if ($Ok) {
        $Reason = ''
    } else {
        $failed.Add(@{ Name = $Name; Reason = $Reason; Detail = $Detail })
    }
    $mark = 'ok  '
    if (-not $Ok) { $mark = 'FAIL' }
    Write-WsusfixText ('  [' + $mark + '] ' + $Name + ': ' + $Detail)
    Write-WsusfixLine 'check' ([ordered]@{ name = $Name; ok = $Ok; reason = $Reason; detail = $Detail })
}

Write-WsusfixText 'Preflight: checking that this host can be repaired (read-only).'

# ---- facts -----------------------------------------------------------------

$principal = New-Object Security.Principal.WindowsPrincipal ([Security.Principal.WindowsIdentity]::GetCurrent())
$isAdmin = $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
# [IntPtr]::Size is the bitness of this process; a 32-bit PowerShell on
# 64-bit Windows sees System32 redirected to SysWOW64.
$process64 = [IntPtr]::Size -eq 8
$os64 = [Environment]::Is64BitOperatingSystem
$psVersion = $PSVersionTable.PSVersion
$psEdition = 'Desktop'
if ($PSVersionTable.ContainsKey('PSEdition')) { $psEdition = [string]$PSVersionTable.PSEdition }
$build = Get-WsusfixOSBuild

$caption = ''
$version = ''
try {
    $os = Get-CimInstance -ClassName Win32_OperatingSystem
    $caption = [string]$os.Caption
    $version = [string]$os.Version
} catch {
    Write-WsusfixWarning -Code 'os_unreadable' -Message ('Win32_OperatingSystem: ' + (Get-WsusfixException $_).Message)
}

$systemDrive = [string]$env:SystemDrive
$freeBytes = [long]-1
try {
    $drive = New-Object System.IO.DriveInfo ($systemDrive)
    $freeBytes = [long]$drive.AvailableFreeSpace
} catch {
    Write-WsusfixWarning -Code 'disk_unreadable' -Message ('free space of ' + $systemDrive + ': ' + (Get-WsusfixException $_).Message)
}
$freeMB = [long]-1
if ($freeBytes -ge 0) { $freeMB = ConvertTo-WsusfixMB $freeBytes }

Write-WsusfixLine 'facts' ([ordered]@{
        computer      = [string]$env:COMPUTERNAME
        os_caption    = $caption
        os_version    = $version
        os_build      = $build
        os_64bit      = $os64
        ps_version    = $psVersion.ToString()
        ps_edition    = $psEdition
        process_64bit = $process64
        is_admin      = $isAdmin
        system_drive  = $systemDrive
        free_mb       = $freeMB
    })

# ---- checks ----------------------------------------------------------------

if ($isAdmin) {
    Add-PreflightCheck -Name 'admin' -Ok $true -Reason 'not_admin' -Detail 'running as an elevated administrator'
} else {
    Add-PreflightCheck -Name 'admin' -Ok $false -Reason 'not_admin' -Detail ('the account is not an elevated administrator; ' +
        'over WinRM a local account other than the built-in Administrator gets a filtered token unless LocalAccountTokenFilterPolicy is 1')
}

if ($process64 -or -not $os64) {
    Add-PreflightCheck -Name 'process_64bit' -Ok $true -Reason 'not_64bit' -Detail (
        'the PowerShell process matches the OS (' + ([IntPtr]::Size * 8) + '-bit)')
} else {
    Add-PreflightCheck -Name 'process_64bit' -Ok $false -Reason 'not_64bit' -Detail (
        '32-bit PowerShell on 64-bit Windows would act on redirected folders')
}

# The bootstrap already refuses PowerShell 2.0; this records what was found.
Add-PreflightCheck -Name 'ps_version' -Ok ($psVersion.Major -ge 3) -Reason 'ps_too_old' -Detail (
    'PowerShell ' + $psVersion.ToString() + ' ' + $psEdition)

# 7600 is Windows 7 / Server 2008 R2, the oldest system the scripts know.
$osName = $caption
if ($osName -eq '') { $osName = 'Windows' }
Add-PreflightCheck -Name 'os_version' -Ok ($build -ge 7600) -Reason 'os_unsupported' -Detail ($osName + ' build ' + $build)

$needMB = [long]$minFreeGB * 1024
if ($freeMB -lt 0) {
    Add-PreflightCheck -Name 'free_disk' -Ok $false -Reason 'low_disk' -Detail ('the free space of ' + $systemDrive + ' could not be read')
} else {
    Add-PreflightCheck -Name 'free_disk' -Ok ($freeMB -ge $needMB) -Reason 'low_disk' -Detail (
        $systemDrive + ' has ' + $freeMB + ' MB free; ' + $needMB + ' MB required')
}

# A Disabled service cannot be started again after the repair (0x80070422);
# its start mode is the admin's, so the repair refuses instead of changing it.
foreach ($svc in @('wuauserv', 'BITS')) {
    $mode = Get-WsusfixStartMode $svc
    $name = 'start_mode_' + $svc.ToLowerInvariant()
    if ($mode -eq 'absent') {
        Add-PreflightCheck -Name $name -Ok $false -Reason 'service_missing' -Detail ($svc + ' is not installed')
    } else {
        Add-PreflightCheck -Name $name -Ok ($mode -ne 'disabled') -Reason 'service_disabled' -Detail ($svc + ' start mode is ' + $mode)
    }
}

# Renaming SoftwareDistribution while servicing runs can corrupt the pending
# transaction. Busy means: the servicing stack's worker (TiWorker, which
# TrustedInstaller starts to install), a standalone installer (wusa), a
# Windows Installer transaction (the _MSIExecute mutex exists exactly while
# one runs; msiexec.exe itself stays loaded when idle), or the Windows Update
# installer. TrustedInstaller.exe alone is not busy: it is a demand-start
# service that stays up a while after any servicing call, so it only warns.
$busy = New-Object 'System.Collections.Generic.List[string]'
foreach ($proc in @(Get-Process -Name 'TiWorker', 'wusa' -ErrorAction SilentlyContinue)) {
    $busy.Add($proc.ProcessName + ' (pid ' + $proc.Id + ')')
}
try {
    $mutex = [System.Threading.Mutex]::OpenExisting('Global\_MSIExecute')
    $mutex.Dispose()
    $busy.Add('a Windows Installer transaction')
} catch {
    # Not found means idle; any other error (access denied) means it exists.
    if ((Get-WsusfixException $_) -isnot [System.Threading.WaitHandleCannotBeOpenedException]) {
        $busy.Add('a Windows Installer transaction')
    }
}
$installerNote = ''
try {
    $installer = New-Object -ComObject 'Microsoft.Update.Installer'
    if ($installer.IsBusy) { $busy.Add('the Windows Update installer') }
} catch {
    # Part of the WUA API refuses remote callers; the other signs still count.
    $installerNote = '; the Windows Update installer state could not be read'
}
if ($busy.Count -eq 0) {
    foreach ($proc in @(Get-Process -Name 'TrustedInstaller' -ErrorAction SilentlyContinue)) {
        Write-WsusfixWarning -Code 'trustedinstaller_running' -Message (
            'TrustedInstaller (pid ' + $proc.Id + ') runs, but nothing installs: it stays up a while after servicing; going on')
    }
}
if ($busy.Count -gt 0) {
    Add-PreflightCheck -Name 'install_in_progress' -Ok $false -Reason 'install_in_progress' -Detail (
        'busy: ' + [string]::Join(', ', $busy.ToArray()) + '; try again when it has finished')
} else {
    Add-PreflightCheck -Name 'install_in_progress' -Ok $true -Reason 'install_in_progress' -Detail (
        'no installation is running' + $installerNote)
}

# A reboot the servicing stack or Windows Update asked for refuses the
# repair. PendingFileRenameOperations alone only warns: many installers and
# antivirus products leave it set for good, which is why the PendingReboot
# module has a switch to skip it and most of its callers use it.
$reboot = New-Object 'System.Collections.Generic.List[string]'
if (Test-WsusfixRegistryKey 'SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending') {
    $reboot.Add('Component Based Servicing\RebootPending')
}
if (Test-WsusfixRegistryKey 'SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired') {
    $reboot.Add('WindowsUpdate\Auto Update\RebootRequired')
}
$pending = Get-WsusfixRegistryValue 'SYSTEM\CurrentControlSet\Control\Session Manager' 'PendingFileRenameOperations'
$renames = 0
foreach ($item in @($pending)) {
    if ($null -ne $item -and [string]$item -ne '') { $renames += 1 }
}
if ($renames -gt 0) {
    Write-WsusfixWarning -Code 'pending_file_renames' -Message (
        'PendingFileRenameOperations holds ' + $renames + ' entries; applications and antivirus often leave them, so the repair goes on')
}
if ($reboot.Count -gt 0) {
    Add-PreflightCheck -Name 'reboot_pending' -Ok $false -Reason 'reboot_pending' -Detail (
        'a reboot is pending: ' + [string]::Join(', ', $reboot.ToArray()) + '; reboot first')
} else {
    Add-PreflightCheck -Name 'reboot_pending' -Ok $true -Reason 'reboot_pending' -Detail 'no reboot is pending'
}

# ---- verdict ---------------------------------------------------------------

if ($failed.Count -gt 0) {
    $first = $failed[0]
    $names = New-Object 'System.Collections.Generic.List[string]'
    foreach ($f in $failed) { $names.Add([string]$f.Name) }
    Write-WsusfixText ('Preflight refused: ' + $first.Detail)
    Complete-Wsusfix -Status 'refused' -Reason $first.Reason -Message (
        $first.Detail + ' (failed checks: ' + [string]::Join(', ', $names.ToArray()) + ')')
}
Write-WsusfixText 'Preflight passed.'
Complete-Wsusfix -Status 'ok' -Message 'all checks passed'

# Finetune Studio's set-up in one command, for Windows: right-click > Run with PowerShell, or
#   powershell -ExecutionPolicy Bypass -File install.ps1
# The same steps as install.sh: check Python, the free disk space and whether this machine has an NVIDIA GPU, install
# the studio into .venv beside this file (the README's install), add its own window and a Start-menu shortcut, then
# say how to start it. Written to match install.sh; it has not been run on Windows by the project's tests.
# Options: -NoWindow, -NoShortcut, -Venv DIR, -SkipPip (check and say what would be installed, install nothing).
param([switch]$NoWindow, [switch]$NoShortcut, [switch]$SkipPip, [string]$Venv = "")

$ErrorActionPreference = "Stop"
$Here = Split-Path -Parent $MyInvocation.MyCommand.Path
Set-Location $Here
if (-not $Venv) { $Venv = Join-Path $Here ".venv" }
$VenvPython = Join-Path $Venv "Scripts\python.exe"
$CpuTorch = "torch==2.13.0"  # the README's CPU line; on a GPU machine pip takes the CUDA build from requirements.txt
$Done = @()

function Say($text) { Write-Host $text }
function Step($text) { Write-Host ""; Write-Host "== $text" }
function Fail($text) { Write-Host ""; Write-Host "Stopped: $text" -ForegroundColor Red; exit 1 }
function Run($program, [string[]]$arguments) {
    if ($SkipPip) { Say "Would run: $program $($arguments -join ' ')"; return }
    Say "Running: $program $($arguments -join ' ')"
    & $program @arguments
    if ($LASTEXITCODE -ne 0) { Fail "$program failed (exit code $LASTEXITCODE); see the lines above." }
}

Step "Python"
$Python = $env:PYTHON
if (-not $Python) {
    foreach ($candidate in @("py", "python")) {
        if (Get-Command $candidate -ErrorAction SilentlyContinue) { $Python = $candidate; break }
    }
}
if (-not $Python) { Fail "Python 3 was not found. Install Python 3.10 or newer from python.org (tick 'Add python.exe to PATH'), then run install.ps1 again." }
$PyVersion = & $Python -c "import sys; print('%d.%d' % sys.version_info[:2])"
& $Python -c "import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)"
if ($LASTEXITCODE -ne 0) { Fail "This Python is $PyVersion; the studio needs Python 3.10 or newer. Install a newer one from python.org and run install.ps1 again." }
Say "Python $PyVersion ($Python): good."

Step "Graphics card"
$Gpus = ""
if (Get-Command nvidia-smi -ErrorAction SilentlyContinue) {
    $Gpus = (& nvidia-smi --query-gpu=name --format=csv,noheader 2>$null) -join ", "
}
if ($Gpus) {
    Say "NVIDIA GPU found: $Gpus. Installing torch with CUDA."
    $Torch = @()
    $NeededGb = 12
} else {
    Say "No NVIDIA GPU found: installing the CPU build of torch (training works, slower)."
    $Torch = @($CpuTorch)
    $NeededGb = 5
}
if ($env:FINETUNE_STUDIO_NEEDED_GB) { $NeededGb = [int]$env:FINETUNE_STUDIO_NEEDED_GB }

Step "Disk space"
$Drive = Get-PSDrive -Name (Split-Path -Qualifier $Here).TrimEnd(":")
$FreeGb = [math]::Floor($Drive.Free / 1GB)
if ($FreeGb -lt $NeededGb) { Fail "only $FreeGb GB are free on $($Drive.Name):; the studio and its libraries need about $NeededGb GB (models and runs need more). Free some space and run install.ps1 again." }
Say "$FreeGb GB free on $($Drive.Name): (about $NeededGb GB needed): good."

Step "Installing the studio into $Venv"
if (-not (Test-Path $VenvPython)) {
    Run $Python @("-m", "venv", $Venv)
    $Done += "made the Python environment $Venv"
}
Run $VenvPython (@("-m", "pip", "install") + $Torch + @("-r", "requirements.txt"))
$Done += "installed the studio's libraries (torch: $(if ($Torch) { $Torch } else { 'the CUDA build' }))"
if (-not $NoWindow) {
    Run $VenvPython @("-m", "pip", "install", "-r", "requirements-desktop.txt")
    $Done += "installed the studio's own window (pywebview, with Windows' own WebView2)"
}

if (-not $NoShortcut) {
    Step "Shortcut"
    & $VenvPython launch.py install-shortcut
    if ($LASTEXITCODE -ne 0) { Fail "the shortcut could not be made (see above); the studio itself is installed: start it with $VenvPython launch.py" }
    $Done += "added Finetune Studio to the Start menu"
}

Step "Done"
foreach ($line in $Done) { Say "- $line" }
if ($SkipPip) { Say "(-SkipPip: nothing was installed; the lines above say what would have been.)" }
Say ""
if (-not $NoShortcut) { Say "Start Finetune Studio from the Start menu, or type:" } else { Say "Start Finetune Studio by typing:" }
Say "    cd `"$Here`"; & `"$VenvPython`" launch.py"
Say "To check this machine: cd `"$Here`"; & `"$VenvPython`" launch.py doctor"

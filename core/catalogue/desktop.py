"""Messages of the desktop window, its close dialog, the shortcut and the installer."""

TEXTS: dict[str, tuple[str, str]] = {
    # webui/window.py: the studio in its own window
    "desktop.window.close_title": ("A run is still training", "仍有运行在训练"),
    "desktop.window.close_question": (
        "The run {run} is still training. What should happen to it when the window closes?",
        "运行 {run} 仍在训练。关闭窗口时要如何处理它？"),
    "desktop.window.keep": ("Keep training in the background", "在后台继续训练"),
    "desktop.window.keep_help": (
        "The window closes and the run goes on; start Finetune Studio again to reopen it. The studio quits by itself "
        "when the run ends.",
        "窗口关闭，运行继续；再次启动 Finetune Studio 即可重新打开窗口。运行结束后工作室会自行退出。"),
    "desktop.window.stop": ("Stop and save the adapter", "停止并保存适配器"),
    "desktop.window.stop_help": (
        "The run stops at the end of the current step and saves its adapter; then the studio quits.",
        "运行在当前步结束时停止并保存适配器，然后工作室退出。"),
    "desktop.window.cancel": ("Cancel", "取消"),
    "desktop.window.stopping": (
        "Stopping {run} at the end of this step and saving its adapter…",
        "正在于本步结束时停止 {run} 并保存其适配器……"),
    "desktop.window.in_background": (
        "The window is closed; {run} goes on training in the background. Start the studio again to reopen its window; "
        "it quits by itself when the run ends.",
        "窗口已关闭；{run} 在后台继续训练。再次启动工作室即可重新打开窗口；运行结束后它会自行退出。"),
    "desktop.window.run_ended": (
        "{run} ended ({state}) while the window was closed; the studio quits.",
        "窗口关闭期间 {run} 已结束（{state}）；工作室退出。"),
    "desktop.window.no_library": (
        "The studio's own window needs pywebview ({reason}); install it with: {command}. Opening the browser instead.",
        "工作室自己的窗口需要 pywebview（{reason}）；安装命令：{command}。改为在浏览器中打开。"),
    "desktop.window.no_display": (
        "No display to open a window on; open http://{host}:{port} in a browser instead.",
        "没有可以打开窗口的显示器；请改用浏览器打开 http://{host}:{port}。"),
    "desktop.window.not_local": (
        "The studio's own window serves on 127.0.0.1 only; with --host {host} or --share it opens in a browser.",
        "工作室自己的窗口只在 127.0.0.1 上提供服务；使用 --host {host} 或 --share 时改在浏览器中打开。"),
    "desktop.window.already_running": (
        "Finetune Studio is already running at {url}: showing it instead of starting a second one.",
        "Finetune Studio 已在 {url} 运行：直接显示它，不再启动第二个。"),
    "desktop.window.port_taken": (
        "Port {port} is taken by another program; start the studio on another one with --port.",
        "端口 {port} 已被其他程序占用；请用 --port 在另一个端口启动工作室。"),
    # webui/shortcut.py: the application menu's entry
    "desktop.shortcut.comment": ("Fine-tune a language model on your own machine", "在自己的电脑上微调语言模型"),
    "desktop.shortcut.installed": (
        "Added Finetune Studio to the application menu: {path} (it starts {python} {launcher}).",
        "已将 Finetune Studio 加入应用程序菜单：{path}（它会启动 {python} {launcher}）。"),
    "desktop.shortcut.removed": ("Removed the shortcut: {path}", "已移除快捷方式：{path}"),
    "desktop.shortcut.none": ("There was no shortcut to remove ({path}).", "没有需要移除的快捷方式（{path}）。"),
    "desktop.shortcut.unsupported": (
        "Shortcuts are made on Linux and Windows only; on {system}, start the studio with: {command}",
        "目前只在 Linux 和 Windows 上创建快捷方式；在 {system} 上请用以下命令启动工作室：{command}"),
    "desktop.shortcut.failed": ("Could not create the Start-menu shortcut: {reason}",
                                "无法创建开始菜单快捷方式：{reason}"),
}

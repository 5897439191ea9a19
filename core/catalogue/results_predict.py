"""Messages of core/results/predict.py: answering a whole test file (`launch.py predict`)."""

TEXTS: dict[str, tuple[str, str]] = {
    # before the model loads: the test file, the out file and the settings
    "results.predict.unreadable": ("{error}", "{error}"),  # the data error itself, as the Data tab says it
    "results.predict.no_rows": ("{path} has no rows to answer.", "{path} 中没有要回答的行。"),
    "results.predict.bad_row": (
        "Row {row} of the test file ({where}) cannot be read: {error}",
        "测试文件的第 {row} 行（{where}）无法读取：{error}"),
    "results.predict.no_question": (
        "Row {row} of the test file ({where}) has no question. A row needs messages, a prompt, an instruction or a "
        "question (with options and a problem for a contest); this one has: {fields}.",
        "测试文件的第 {row} 行（{where}）没有问题。每行需要 messages、prompt、instruction 或 question（竞赛题可带 "
        "options 和 problem）；这一行只有：{fields}。"),
    "results.predict.bad_votes": (
        "Votes must be 1 or more (got {votes}): the number of answers sampled per row.",
        "投票数必须不少于 1（收到 {votes}）：即每行采样的回答数。"),
    "results.predict.no_out_folder": (
        "Cannot write {path}: the folder {folder} does not exist. Create it or choose another path.",
        "无法写入 {path}：文件夹 {folder} 不存在。请先创建它，或换一个路径。"),
    "results.predict.out_mismatch": (
        "{path} already holds other answers (line {line} is not this test file's next row). Choose another --out, "
        "or delete the file to start again.",
        "{path} 中已有其他回答（第 {line} 行不是这个测试文件的下一行）。请换一个 --out，或删除该文件重新开始。"),
    # while answering, and at the end
    "results.predict.resumed": (
        "{done} of {total} rows are already in {path}; answering the rest.",
        "{path} 中已有 {done}/{total} 行的回答；继续回答其余的行。"),
    "results.predict.progress": ("{done}/{total} rows, {speed} rows/s", "已完成 {done}/{total} 行，每秒 {speed} 行"),
    "results.predict.done": (
        "Answered {total} rows into {path} ({new} now in {seconds} s, {kept} from before).",
        "已把 {total} 行的回答写入 {path}（本次 {new} 行，用时 {seconds} 秒；之前已有 {kept} 行）。"),
    "results.predict.no_answer": (
        "{count} rows got no answer (the pattern found none in their answers; answer is null): rows {rows}.",
        "有 {count} 行没有得到答案（答案提取模式在其回答中找不到匹配，answer 记为 null），行号：{rows}。"),
    "results.predict.all_answered": ("Every row got an answer.", "每一行都得到了答案。"),
    "results.predict.csv_written": ("Submission file (id, answer): {path}", "提交文件（id, answer）：{path}"),
}

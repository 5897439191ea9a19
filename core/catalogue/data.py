"""Messages of core/data: what is wrong with a file or a row, warnings, and notes on how a file was read."""

TEXTS: dict[str, tuple[str, str]] = {
    # answers.py
    "data.answers.bad_pattern": (
        "The answer pattern {pattern!r} is not a valid regular expression ({error}). Put the answer in a group, e.g. "
        "(?:answer is)[:]?\\s*(.+)",
        "答案提取模式 {pattern!r} 不是有效的正则表达式（{error}）。请把答案放进一个分组，例如 "
        "(?:answer is)[:]?\\s*(.+)"),
    # ---- small words the messages share (core/data/errors.py)
    "data.kind.null": ("nothing (null)", "空值（null）"),
    "data.kind.bool": ("true/false", "true/false 值"),
    "data.kind.number": ("a number", "数字"),
    "data.kind.text": ("text", "文本"),
    "data.kind.list": ("a list", "列表"),
    "data.kind.object": ("an object", "对象"),
    "data.kind.other": ("{name}", "{name} 类型的值"),
    "data.list.then": ("{first}; {rest}", "{first}；{rest}"),
    # ---- where a row is in its file; {label} is a folder's file name and a space, or nothing
    "data.where.line": ("{label}line {number}", "{label}第 {number} 行"),
    "data.where.item": ("{label}item {number}", "{label}第 {number} 项"),
    "data.where.row": ("{label}row {number}", "{label}第 {number} 行"),
    "data.where.file": ("{file}", "文件 {file}"),
    "data.where.header": ("the header (line 1)", "表头（第 1 行）"),
    "data.where.columns": ("the columns", "列名"),
    "data.where.chosen": ("{where} (chosen)", "{where}（选中的回答）"),
    "data.where.rejected": ("{where} (rejected)", "{where}（被拒绝的回答）"),
    # ---- reading files (core/data/files.py)
    "data.files.missing": (
        "No file at {path}. Check the path, or give the path of a {extensions} file (or a folder of them).",
        "{path} 处没有文件。请检查路径，或给出一个 {extensions} 文件（或存放这些文件的文件夹）的路径。"),
    "data.files.bad_extension": (
        '{path} has the extension "{extension}", which is not supported. Use one of: {extensions}.',
        "{path} 的扩展名“{extension}”不受支持。请使用以下之一：{extensions}。"),
    "data.files.no_extension": (
        "{path} has no extension, which is not supported. Use one of: {extensions}.",
        "{path} 没有扩展名，无法识别。请使用以下之一：{extensions}。"),
    "data.files.empty": ("{path} is empty.", "{path} 是空的。"),
    "data.files.empty_file": ("the file is empty", "文件是空的"),
    "data.files.big_json": ("{name} is {size:.1f} GB; it is read item by item.",
                            "{name} 大小为 {size:.1f} GB；将逐条读取。"),
    "data.files.no_data_files": ("The folder {path} holds no {extensions} files.",
                                 "文件夹 {path} 中没有 {extensions} 文件。"),
    "data.files.mixed_folder": (
        "The folder {path} mixes .txt files with other data files ({name} and others); put plain text files in a "
        "folder of their own.",
        "文件夹 {path} 中混有 .txt 文件和其他数据文件（{name} 等）；请把纯文本文件单独放在一个文件夹里。"),
    "data.files.folder": ("Read {count} files from the folder {path}: {names}.",
                          "从文件夹 {path} 读取了 {count} 个文件：{names}。"),
    "data.files.not_utf8": (
        "{path} is not UTF-8 text (byte 0x{byte:02x} at position {position}, line {line}, column {column}); save it "
        "as UTF-8 (in most editors: Save As, encoding UTF-8).",
        "{path} 不是 UTF-8 文本（第 {line} 行第 {column} 列，位置 {position} 处的字节 0x{byte:02x}）；请以 UTF-8 "
        "编码保存（大多数编辑器中：另存为，编码选 UTF-8）。"),
    "data.files.not_utf8_big": (
        "{path} is not UTF-8 text (byte 0x{byte:02x} at position {position}); save it as UTF-8.",
        "{path} 不是 UTF-8 文本（位置 {position} 处的字节 0x{byte:02x}）；请以 UTF-8 编码保存。"),
    "data.files.bad_json_line": ("not valid JSON: {error} at column {column}",
                                 "不是有效的 JSON：第 {column} 列处 {error}"),
    # Python's json module's reasons: its own English words, and Chinese for the page
    "data.files.json_value": ("Expecting value", "此处应有一个值"),
    "data.files.json_comma": ("Expecting ',' delimiter", "此处应有逗号 ','"),
    "data.files.json_colon": ("Expecting ':' delimiter", "此处应有冒号 ':'"),
    "data.files.json_name": ("Expecting property name enclosed in double quotes", "此处应有用双引号括起的字段名"),
    "data.files.json_unterminated": ("Unterminated string starting at", "有未闭合的字符串（缺少结尾的引号）"),
    "data.files.json_control": ("Invalid control character at", "字符串中有控制字符（例如换行）"),
    "data.files.json_escape": ("Invalid \\escape", "无效的 \\ 转义"),
    "data.files.json_extra": ("Extra data", "第一个值之后还有多余的内容"),
    "data.files.bad_json": (
        "{path} is not valid JSON: {error} at line {line}, column {column}. Fix that spot (often a missing comma, "
        "quote or bracket).{hint}",
        "{path} 不是有效的 JSON：第 {line} 行第 {column} 列处 {error}。请修正该处（常见原因是缺少逗号、引号或括号）。"
        "{hint}"),
    "data.files.jsonl_hint": (" If it holds one object per line, rename it to .jsonl.",
                              "如果文件每行是一个对象，请把扩展名改为 .jsonl。"),
    "data.files.not_a_list": (
        "{path} should hold a list of rows like [{{...}}, {{...}}], but it holds {kind}.",
        "{path} 应当是由多行组成的列表，如 [{{...}}, {{...}}]，但其中是{kind}。"),
    "data.files.single_object": ("The file holds a single row (one JSON object), not a list of rows.",
                                 "该文件只有一行（一个 JSON 对象），而不是由多行组成的列表。"),
    "data.files.wrapped_list": ('The file is a JSON object; used the list of rows under the key "{key}".',
                                "该文件是一个 JSON 对象；使用了键“{key}”下的行列表。"),
    "data.files.no_keys": ("none", "无"),
    "data.files.json_object": (
        '{path} holds a JSON object, not a list of rows. Expected a list like [{{"instruction": ..., "output": ...}}, '
        "...] or an object with exactly one such list inside; found the keys: {keys}.",
        '{path} 是一个 JSON 对象，而不是由多行组成的列表。应为 [{{"instruction": ..., "output": ...}}, ...] '
        "这样的列表，或内部恰好含有一个这种列表的对象；实际找到的键：{keys}。"),
    "data.files.big_not_a_list": (
        "{path} is too large to read whole ({size:.1f} GB) and does not start with a list ([...]). Save large data "
        "as a JSON list, or better as JSON Lines (.jsonl, one object per line).",
        "{path} 太大，无法整体读取（{size:.1f} GB），而且它不是以列表（[...]）开头。请把大数据保存为 JSON 列表，"
        "最好保存为 JSON Lines（.jsonl，每行一个对象）。"),
    "data.files.bad_big_json": (
        "{path} is not valid JSON: {error} at line {line}. Fix that spot (often a missing comma, quote or bracket).",
        "{path} 不是有效的 JSON：第 {line} 行处 {error}。请修正该处（常见原因是缺少逗号、引号或括号）。"),
    "data.files.unclosed_list": ("{path} ends before its list is closed with ]; the file may be cut short.",
                                 "{path} 在列表用 ] 结束之前就结束了；文件可能不完整。"),
    "data.files.no_header": (
        "{path} needs a header row on line 1 naming the columns, e.g. instruction,output.",
        "{path} 的第 1 行需要是给各列命名的表头，例如 instruction,output。"),
    "data.files.bad_table": ("{path} could not be read as a table near line {line}: {error}.",
                             "{path} 在第 {line} 行附近无法按表格读取：{error}。"),
    "data.files.tab": ("tab", "制表符"),
    "data.files.comma": ("comma", "逗号"),
    "data.files.cell_count": (
        "has {cells} cells but the header has {header} columns; check for a missing or extra {separator} (text "
        "containing a {separator} must be in double quotes)",
        "有 {cells} 个单元格，而表头有 {header} 列；请检查是否少了或多了{separator}"
        "（含有{separator}的文字必须放在双引号里）"),
    "data.files.bad_json_cell": ('field "{field}" is not valid JSON: {error} at column {column}',
                                 "字段“{field}”不是有效的 JSON：第 {column} 列处 {error}"),
    "data.files.bad_parquet": ("{path} could not be read as a Parquet file: {reason}.",
                               "{path} 无法按 Parquet 文件读取：{reason}。"),
    "data.files.text_lines": ("The text file has no blank lines, so each line is one row.",
                              "该文本文件没有空行，因此每一行是一条数据。"),
    "data.files.text_paragraphs": (
        "Read the text file as paragraphs separated by blank lines; each paragraph is one row.",
        "按空行把文本文件分成段落；每段是一条数据。"),
    "data.files.hub_failed": (
        "'{name}' is not a file here, and as a hub dataset: {reason} Or give the path of a "
        ".jsonl/.json/.csv/.parquet/.txt file.",
        "'{name}' 不是本机上的文件；作为数据集仓库 ID：{reason} 也可以给出一个 .jsonl/.json/.csv/.parquet/.txt "
        "文件的路径。"),
    "data.files.hub_no_split": (
        "The hub dataset {name} has no files for split '{split}' (subset '{subset}'); its files suggest: {found}. "
        "Name the split as ORG/NAME:SPLIT and a subset as ORG/NAME@SUBSET:SPLIT.",
        "数据集仓库 {name} 中没有划分 '{split}'（子集 '{subset}'）的文件；从文件名看有：{found}。"
        "划分写作 ORG/NAME:SPLIT，子集写作 ORG/NAME@SUBSET:SPLIT。"),
    "data.files.hub": ('Loaded "{name}" (split "{split}", {count} files) from the dataset hub.',
                       "已从数据集仓库加载“{name}”（划分“{split}”，{count} 个文件）。"),
    "data.files.line_too_long": (
        "this line is {size:.1f} MB, over the {limit:.0f} MB a row may hold, so it was not read; split it into "
        "several rows, or shorten it",
        "这一行有 {size:.1f} MB，超过了每行最多 {limit:.0f} MB 的上限，因此未读取；请把它拆成多行，或把它缩短"),
    "data.files.row_too_long": (
        "this row holds {size:.1f} MB of text, over the {limit:.0f} MB a row may hold; split it into several rows, "
        "or shorten it",
        "这一行含有 {size:.1f} MB 的文本，超过了每行最多 {limit:.0f} MB 的上限；请把它拆成多行，或把它缩短"),
    "data.files.not_an_object": ('should be a JSON object with fields, like {{"text": ...}}, but found {kind}',
                                 '应为带字段的 JSON 对象，如 {{"text": ...}}，实际是{kind}'),
    # ---- the shapes data comes in (core/data/formats.py)
    "data.formats.needs.alpaca": ("instruction and output", "instruction 和 output"),
    "data.formats.needs.sharegpt": ("conversations", "conversations"),
    "data.formats.needs.messages": ("messages", "messages"),
    "data.formats.needs.prompt_completion": ("prompt and completion", "prompt 和 completion"),
    "data.formats.needs.text": ("text", "text"),
    "data.formats.needs.preference": ("chosen and rejected (and a prompt, instruction or conversation)",
                                      "chosen 和 rejected（以及 prompt、instruction 或对话）"),
    "data.formats.needs.unpaired_preference": ("a conversation or prompt and completion, and a true/false label",
                                               "一段对话或 prompt 和 completion，以及 true/false 标签"),
    "data.formats.needs_in_full.alpaca": ("instruction and output (input, system and history are optional)",
                                          "instruction 和 output（input、system 和 history 可选）"),
    # No {field} in these two: say() leaves a text without values as it is, so their braces are single.
    "data.formats.needs_in_full.sharegpt": ('conversations, a list of {"from": ..., "value": ...}',
                                            'conversations，即 {"from": ..., "value": ...} 的列表'),
    "data.formats.needs_in_full.messages": ('messages, a list of {"role": ..., "content": ...}',
                                            'messages，即 {"role": ..., "content": ...} 的列表'),
    "data.formats.needs_in_full.prompt_completion": (
        "prompt and completion (or question and answer, query and response, q and a, 问题 and 答案, input and "
        "output)",
        "prompt 和 completion（或 question 和 answer、query 和 response、q 和 a、问题 和 答案、input 和 output）"),
    "data.formats.needs_in_full.text": ("text (or content)", "text（或 content）"),
    "data.formats.needs_in_full.preference": (
        "chosen and rejected answers, with a prompt, an instruction or a conversation before them",
        "chosen 和 rejected 两个回答，前面带有 prompt、instruction 或一段对话"),
    "data.formats.needs_in_full.unpaired_preference": (
        "a conversation (messages) or a prompt and completion, with label true (a desirable answer) or false (an "
        "undesirable one)",
        "一段对话（messages）或 prompt 和 completion，并带有 label：true（可取的回答）或 false（不可取的回答）"),
    "data.formats.format_needs": ("{format}: {needs}", "{format}：{needs}"),
    "data.formats.read_as_turns": (
        "Read as a conversation: `{prompt}` is the user's turn and `{completion}` the assistant's answer, written "
        "with the model's chat template, as the Chat tab asks.",
        "按对话读取：`{prompt}` 是用户的一轮，`{completion}` 是助手的回答，用模型的对话模板写出，"
        "与“对话”页提问的方式一致。"),
    "data.formats.read_as_text": (
        "Read as plain text: `{completion}` continues `{prompt}` without the chat template (trl's prompt-completion), "
        "so the model does not learn to answer in the chat turns it is asked in. To train them as a question and its "
        "answer, name the columns question and answer, or map them to instruction and output (Column mapping).",
        "按纯文本读取：`{completion}` 直接接在 `{prompt}` 后面，不套对话模板（trl 的 prompt-completion 格式），"
        "模型学不到在提问所用的对话轮次中回答。要把它们当作问题和回答训练，请把列名改为 question 和 answer，"
        "或在“列映射”中把它们映射为 instruction 和 output。"),
    "data.formats.no_fields": ("no fields", "没有字段"),
    "data.formats.not_fields": ("{kind} instead of fields", "{kind}，而不是字段"),
    "data.formats.unknown": ('Unknown data format "{format}". Choose one of: {formats}.',
                             "未知的数据格式“{format}”。请从中选择：{formats}。"),
    "data.formats.not_mappable": ('data.columns: "{field}" is not a field that can be mapped; use one of: {fields}.',
                                  "data.columns：“{field}”不是可以映射的字段；请使用以下之一：{fields}。"),
    "data.formats.bad_role_map": (
        'data.roles: the role tag "{tag}" is mapped to "{role}"; map it to one of: {roles}.',
        "data.roles：角色标记“{tag}”被映射为“{role}”；请映射为以下之一：{roles}。"),
    "data.formats.mapped_column_missing": (
        'has no column "{column}", which data.columns maps to "{field}"; its columns are: {fields}',
        "没有 data.columns 映射到“{field}”的列“{column}”；它的列为：{fields}"),
    "data.formats.undetected": (
        "Could not tell the data format: found {fields}. Each format needs these fields: {needs}. If your columns "
        "have other names, map them (data.columns; in the studio, Data tab, Column mapping).",
        "无法判断数据格式：找到的是 {fields}。各格式需要这些字段：{needs}。如果你的列用了别的名字，请映射它们"
        "（data.columns；在工作室中：“数据”页，“列映射”）。"),
    "data.formats.not_a_record": ("should be a record with fields, found {kind}", "应为带字段的记录，实际是{kind}"),
    "data.formats.empty_field": ('field "{field}" is empty', "字段“{field}”是空的"),
    "data.formats.missing_field": ('missing field "{field}" ({format} rows need {needs})',
                                   "缺少字段“{field}”（{format} 格式的行需要 {needs}）"),
    "data.formats.not_text": ('field "{field}" should be text, found {kind}', "字段“{field}”应为文本，实际是{kind}"),
    "data.formats.history_not_a_list": ('field "history" should be a list of [user, assistant] pairs, found {kind}',
                                        "字段“history”应为 [用户, 助手] 对的列表，实际是{kind}"),
    "data.formats.history_pair": ('field "history" pair {number} should be [user text, assistant text]',
                                  "字段“history”的第 {number} 对应为 [用户文字, 助手文字]"),
    "data.formats.history_pair_empty": ('field "history" pair {number} has an empty message',
                                        "字段“history”的第 {number} 对中有空消息"),
    "data.formats.two_system_messages": (
        'has a system message both in the field "system" and in "{field}"; keep only one',
        "字段“system”和“{field}”中都有系统消息；请只保留一个"),
    "data.formats.mixed_prompt_completion": (
        'fields "{prompt}" and "{completion}" must both be text or both be lists of messages',
        "字段“{prompt}”和“{completion}”必须都是文本，或都是消息列表"),
    "data.formats.same_answers": (
        'the "chosen" and "rejected" answers are the same; a preference needs two different answers',
        "“chosen”和“rejected”两个回答相同；偏好数据需要两个不同的回答"),
    "data.formats.answer_not_last": ('field "{field}" should end with the assistant\'s answer',
                                     "字段“{field}”应以助手的回答结尾"),
    "data.formats.no_label": (
        'has no "label"; unpaired preference rows need label true (a desirable answer) or false (an undesirable one)',
        "没有“label”；非成对偏好数据的行需要 label：true（可取的回答）或 false（不可取的回答）"),
    "data.formats.bad_label": (
        'field "label" should be true (a desirable answer) or false (an undesirable one), found {value}',
        "字段“label”应为 true（可取的回答）或 false（不可取的回答），实际是 {value}"),
    "data.formats.no_prompt": (
        'has "chosen" and "rejected" but no prompt: add a "prompt" field, or give both as whole conversations',
        "有“chosen”和“rejected”但没有提示：请添加“prompt”字段，或把两者都写成完整的对话"),
    "data.formats.different_prompts": (
        'the "chosen" and "rejected" conversations should be the same up to the last assistant answer; add a '
        'separate "prompt" field instead',
        "“chosen”和“rejected”两段对话在最后一个助手回答之前应完全相同；否则请另加一个“prompt”字段"),
    "data.formats.no_turns": (
        'field "{field}" is plain text without "Human:" and "Assistant:" turns, so the prompt cannot be told from the '
        'answer; add a "prompt" field',
        "字段“{field}”是纯文本，没有“Human:”和“Assistant:”轮次，无法区分提示和回答；请添加“prompt”字段"),
    "data.formats.not_a_message_list": ('field "{field}" should be a list of messages, found {kind}',
                                        "字段“{field}”应为消息列表，实际是{kind}"),
    "data.formats.message_not_an_object": (
        'message {number} in "{field}" should be an object with "{role_key}" and "{content_key}", found {kind}',
        "“{field}”中的第 {number} 条消息应为带“{role_key}”和“{content_key}”的对象，实际是{kind}"),
    "data.formats.message_without_role": ('message {number} in "{field}" has no "{role_key}"',
                                          "“{field}”中的第 {number} 条消息没有“{role_key}”"),
    "data.formats.unknown_role": (
        'message {number} in "{field}" has the role "{role}"; use one of: {roles}, or map it (data.roles, e.g. '
        "{{{role}: user}})",
        "“{field}”中的第 {number} 条消息的角色是“{role}”；请使用以下之一：{roles}，或映射它（data.roles，例如 "
        "{{{role}: user}}）"),
    "data.formats.not_a_text_part": (
        'message {number} in "{field}" has a "{kind}" part; only text parts are supported',
        "“{field}”中的第 {number} 条消息含有“{kind}”部分；只支持文本部分"),
    "data.formats.content_not_text": ('message {number} in "{field}" should have text content, found {kind}',
                                      "“{field}”中的第 {number} 条消息的内容应为文本，实际是{kind}"),
    "data.formats.no_messages": ("the conversation has no messages", "对话中没有消息"),
    "data.formats.no_reply": ("the conversation has no assistant reply", "对话中没有助手的回复"),
    "data.formats.late_system_message": (
        "message {number} is a system message; a system message may only come first",
        "第 {number} 条消息是系统消息；系统消息只能放在最前面"),
    "data.formats.first_not_user": ("message {number} is from the {role}; a conversation must start with the user",
                                    "第 {number} 条消息来自 {role}；对话必须由用户开始"),
    "data.formats.same_role_twice": (
        "messages {earlier} and {number} are both from the {role}; user and assistant must take turns",
        "第 {earlier} 条和第 {number} 条消息都来自 {role}；用户和助手必须轮流发言"),
    "data.formats.wrong_order": ("message {number} is from the {role} right after the {previous}",
                                 "第 {number} 条消息来自 {role}，紧跟在 {previous} 之后"),
    "data.formats.empty_message": ("message {number} ({role}) is empty", "第 {number} 条消息（{role}）是空的"),
    "data.formats.last_not_assistant": (
        "the conversation ends with a {role} message (message {number}); the last message must be the assistant's "
        "reply",
        "对话以 {role} 消息结尾（第 {number} 条消息）；最后一条消息必须是助手的回复"),
    "data.formats.prompt_not_user_last": (
        "the prompt ends with a {role} message; it must end with the user's question",
        "提示以 {role} 消息结尾；它必须以用户的问题结尾"),
    # ---- loading a dataset (core/data/load.py)
    "data.load.problem": ("{where}: {message}", "{where}：{message}"),
    "data.load.no_rows": ("{path} has no rows (it is empty or holds only blank lines).",
                          "{path} 中没有数据行（文件是空的，或只有空行）。"),
    "data.load.text_only": (
        '{path} is a plain text file, so it can only be used with the format "{fixed}" (you chose "{format}").',
        "{path} 是纯文本文件，只能以“{fixed}”格式使用（你选择的是“{format}”）。"),
    "data.load.no_usable_rows": ("no usable rows in {path}: {problems}{more}",
                                 "{path} 中没有可用的行：{problems}{more}"),
    "data.load.and_more": (" (and {count} more)", "（另有 {count} 行）"),
    "data.load.not_listed": ("{count} more skipped rows are not listed.", "另有 {count} 个跳过的行未列出。"),
    "data.load.preview": (
        "Showing the first {rows:,} rows of a {size:,.0f} MB file; the whole file is read when training starts.",
        "显示的是一个 {size:,.0f} MB 文件的前 {rows:,} 行；开始训练时会读取整个文件。"),
    "data.load.bad_header": ("{path}, the header: {error}. Fix the column mapping.",
                             "{path}，表头：{error}。请修正列映射。"),
    "data.load.wrong_format": (
        '{path}: the format "{format}" does not fit {where}, which has the fields {fields}. {format} rows need '
        "{needs}.{hint}",
        "{path}：格式“{format}”与{where}不符，其中的字段为 {fields}。{format} 格式的行需要 {needs}。{hint}"),
    "data.load.looks_like": (' It looks like "{format}": choose that, or "auto".',
                             "它看起来像“{format}”：请选择该格式，或选择“auto”。"),
    "data.load.undetected": ("{path}, {where}: {error}{hint}", "{path}，{where}：{error}{hint}"),
    "data.load.csv_header_hint": (" A CSV file needs a header row naming the columns.",
                                  "CSV 文件需要一行给各列命名的表头。"),
    "data.load.detected": ('Detected format "{format}" from the fields {fields}.',
                           "根据字段 `{fields}` 识别出格式“{format}”。"),
    "data.load.bad_rows": (
        "{skipped} of {total} rows in {path} cannot be used ({problems}{more}). Fix them, or turn on "
        'data.skip_bad_rows (in the studio: Data tab, "Skip rows that cannot be used") to train on the rest.',
        "{path} 的 {total} 行中有 {skipped} 行无法使用（{problems}{more}）。请修正它们，或打开 data.skip_bad_rows"
        "（在工作室中：“数据”页，“跳过无法使用的行”），用其余的行训练。"),
    "data.load.unfilled": (
        "{path} uses the {word} {names} without a value; the model would learn the braces literally. Fill them in "
        "(data.placeholders, e.g. {{{first}: ...}}; in the studio: Data tab).",
        "{path} 使用了{word} {names}，但没有给出值；模型会把花括号当作文字学习。请填写它们的值"
        "（data.placeholders，例如 {{{first}: ...}}；在工作室中：“数据”页）。"),
    "data.load.placeholder": ("placeholder", "占位符"),
    "data.load.placeholders": ("placeholders", "占位符"),
    # ---- which rows each method trains on (core/data/method_rows.py)
    "data.method_rows.first_row": ("{path}, {where}", "{path}，{where}"),
    "data.method_rows.pairs_split": (
        "Each of the {pairs} pairs became a desirable (chosen) and an undesirable (rejected) answer for kto.",
        "{pairs} 对数据中的每一对都拆成了一个可取（chosen）和一个不可取（rejected）的回答，供 kto 使用。"),
    "data.method_rows.no_text": ("{path} has no text to train on: every row is empty once read as text.",
                                 "{path} 中没有可训练的文本：每一行按文本读取后都是空的。"),
    "data.method_rows.read_as_text": ("The {format} rows are read as plain text for cpt.",
                                      "{format} 格式的行按纯文本读取，用于 cpt。"),
    "data.method_rows.sft_on_pairs": (
        "{first}: this file holds preference data (a prompt with a chosen and a rejected answer). Choose "
        "train.method dpo, orpo or kto to learn the preference; or, to imitate the chosen answers, map them as the "
        "completion (data.columns: {{completion: chosen}}, format prompt_completion).",
        "{first}：该文件是偏好数据（一个提示带一个选中的回答和一个被拒绝的回答）。要学习这种偏好，请把 train.method "
        "设为 dpo、orpo 或 kto；如果只想模仿选中的回答，请把它映射为 completion"
        "（data.columns: {{completion: chosen}}，格式 prompt_completion）。"),
    "data.method_rows.sft_on_labelled": (
        '{first}: this file holds answers labelled desirable or undesirable (a "label" field). Choose train.method '
        "kto to learn from them; supervised fine-tuning would imitate the undesirable ones too.",
        "{first}：该文件中的回答标注了可取或不可取（“label”字段）。请把 train.method 设为 kto 来学习它们；"
        "监督微调会连不可取的回答也一起模仿。"),
    "data.method_rows.needs_pairs": (
        '{first}: {method} learns from pairs, and this file holds {shape}. Each row needs a prompt (or a conversation) '
        'with a "chosen" and a "rejected" answer. Use train.method sft for these rows, or kto for answers labelled '
        "true/false.",
        "{first}：{method} 从成对的回答中学习，而该文件是{shape}。每一行需要一个提示（或一段对话），带有“chosen”"
        "和“rejected”两个回答。这些行请用 train.method sft，标注了 true/false 的回答请用 kto。"),
    "data.method_rows.needs_labels": (
        '{first}: kto needs every answer marked desirable or undesirable, and this file holds {shape} without a '
        '"label". Add "label": true (desirable) or false (undesirable) to each row, as in {{"messages": [...], '
        '"label": true}}, or give pairs with "chosen" and "rejected".',
        "{first}：kto 需要每个回答都标明可取或不可取，而该文件是没有“label”的{shape}。请给每一行加上 "
        '"label": true（可取）或 false（不可取），如 {{"messages": [...], "label": true}}，或者提供带“chosen”'
        "和“rejected”的成对数据。"),
    "data.method_rows.needs_references": (
        "{first}: grpo learns from questions with a reference answer to check against (a conversation ending in "
        "the assistant's answer, instruction/output, question/answer or prompt/completion), but this file holds "
        "{shape}.",
        "{first}：grpo 需要带参考答案的问题来核对（以助手回答结尾的对话、instruction/output、question/answer 或 "
        "prompt/completion），但此文件是{shape}。"),
    "data.method_rows.cannot_use": ("{first}: train.method {method} cannot use {shape}.",
                                    "{first}：train.method {method} 无法使用{shape}。"),
    "data.method_rows.shape.text": ("plain text", "纯文本"),
    "data.method_rows.shape.messages": ("conversations", "对话"),
    "data.method_rows.shape.alpaca": ("instruction/output rows", "instruction/output 行"),
    "data.method_rows.shape.prompt_completion": ("prompt/completion rows", "prompt/completion 行"),
    "data.method_rows.shape.preference": ("preference pairs", "偏好对"),
    "data.method_rows.shape.unpaired_preference": ("labelled answers", "带标签的回答"),
    # ---- chat templates (core/data/chat_layout.py, templates.py, pairs.py)
    "data.chat_layout.this_model": ("this model", "该模型"),
    "data.chat_layout.cannot_mask": (
        "The chat template of {model} cannot be split into turns for training ({reason}). Choose a model whose "
        "template writes each message as text (its -Instruct version, for example), or give the data as "
        "prompt/completion rows, which are trained without the chat template.",
        "{model} 的对话模板无法为训练拆分成轮次（{reason}）。请选择一个模板会把每条消息写成文字的模型（例如它的 "
        "-Instruct 版本），或者把数据写成 prompt/completion 行，这种行训练时不使用对话模板。"),
    "data.chat_layout.needs_context": (
        "The chat template of {model} cannot be used for training: it renders a conversation only together with a "
        "list of {needs} (a tool-use or retrieval template), and training rows carry none. Use the model's plain "
        "chat template (its \"default\" one), or give the data as prompt/completion rows.",
        "{model} 的对话模板无法用于训练：它只在同时给出 {needs} 列表时才能写出对话（工具调用或检索模板），而训练数据行"
        "没有这些。请使用该模型的普通对话模板（其 \"default\" 模板），或把数据写成 prompt/completion 行。"),
    "data.chat_layout.fails": ("it fails on a plain conversation: {error}", "它在一段普通对话上出错：{error}"),
    "data.chat_layout.answers_not_text": ("it does not write the assistant's messages as text",
                                          "它没有把助手的消息写成文字"),
    "data.templates.refused": ("the chat template of {model} refuses this conversation: {error}",
                               "{model} 的对话模板拒绝了这段对话：{error}"),
    "data.templates.answer_not_once": ("an assistant message does not appear exactly once",
                                       "某条助手消息没有恰好出现一次"),
    "data.templates.answers_overlap": ("one answer changes how another is written", "一个回答改变了另一个回答的写法"),
    "data.templates.answers_depend": ("how it writes one answer depends on the others",
                                      "它写一个回答的方式取决于其他回答"),
    "data.pairs.prompts_differ": ("the prompt is written differently before the chosen and the rejected answer",
                                  "选中的回答和被拒绝的回答之前的提示写法不同"),
    # ---- warnings and statistics (core/data/check.py); {count} is one of data.check.count.*
    "data.check.count.row": ("1 row", "1 行"),
    "data.check.count.rows": ("{rows} rows", "{rows:,} 行"),
    "data.check.count.row_is": ("1 row is", "1 行"),
    "data.check.count.rows_are": ("{rows} rows are", "{rows:,} 行"),
    "data.check.count.row_loses": ("1 row loses", "1 行"),
    "data.check.count.rows_lose": ("{rows} rows lose", "{rows:,} 行"),
    "data.check.count.row_repeats": ("1 row repeats", "1 行"),
    "data.check.count.rows_repeat": ("{rows} rows repeat", "{rows:,} 行"),
    "data.check.count.row_contains": ("1 row contains", "1 行"),
    "data.check.count.rows_contain": ("{rows} rows contain", "{rows:,} 行"),
    "data.check.count.row_uses": ("1 row uses", "1 行"),
    "data.check.count.rows_use": ("{rows} rows use", "{rows:,} 行"),
    "data.check.count.answer": ("1 answer", "1 个回答"),
    "data.check.count.answers": ("{answers:,} answers", "{answers:,} 个回答"),
    "data.check.no_template": (
        "This model has no chat template of its own (a base model), so the {layout} turn format is used; it learns "
        "that layout from your data. An -Instruct model learns a new behaviour from fewer rows.",
        "该模型没有自带对话模板（是基础模型），因此使用 {layout} 轮次格式；它会从你的数据中学会这种格式。"
        "用 -Instruct 模型，学会新行为所需的数据更少。"),
    "data.check.too_long": (
        "{count} longer than max length {max_length} tokens; {cut_tokens:,} tokens would be cut from their ends (the "
        "longest row has {longest:,}). Raise max length, or shorten these rows.",
        "{count}超过最大长度 {max_length} 个词元；其末尾共 {cut_tokens:,} 个词元会被截掉（最长的一行有 "
        "{longest:,} 个）。请调大最大长度，或缩短这些行。"),
    "data.check.all_cut": (
        "{count} every token the model would learn from to the cut; training leaves them out.",
        "{count}中所有要学习的词元都被截掉了；训练时会跳过它们。"),
    "data.check.no_eos": (
        "In {count} an answer is trained without its end-of-turn token ({reason}); the model will not learn to stop "
        "there and may ramble.",
        "{count}中有回答在训练时没有轮次结束标记（{reason}）；模型学不会在那里停下，可能会说个不停。"),
    "data.check.no_eos_token": ("the tokenizer has no end-of-sequence token", "分词器没有结束标记"),
    "data.check.eos_cut": ("the cut at max length removes it", "被最大长度截掉了"),
    "data.check.thinking": (
        "In {count} the model's chat template leaves out the thinking (<think> ... </think> or reasoning_content) "
        "of an answer, so only the text after it is trained: this template has no place for thinking.",
        "{count}中，模型的对话模板省略了回答里的思考部分（<think> ... </think> 或 reasoning_content），"
        "只训练其后的文字：这个模板没有写思考部分的位置。"),
    "data.check.thinking_kept": (
        "In {count} the model's chat template leaves out the thinking of {answers} (DeepSeek-R1's drops it from "
        "every answer, Qwen3's from answers before the last question). The studio keeps it and trains it as the "
        "model writes it, <think> ... </think> before the answer, as trl's training templates do. In the chat, "
        "the template still shows the model its earlier answers without their thinking.",
        "{count}中，模型的对话模板省略了{answers}的思考部分（DeepSeek-R1 的模板对每个回答都这样，"
        "Qwen3 的模板对最后一个问题之前的回答这样）。工作室保留这些思考部分，并按模型自己的写法训练它们"
        "（回答前的 <think> ... </think>），与 trl 的训练模板一致。对话时，模板给模型看的先前回答仍不带思考部分。"),
    "data.check.template": (
        "{count} refused by the model's chat template ({reason}); training leaves them out. Fix their roles, or "
        "choose another model.",
        "{count}被模型的对话模板拒绝（{reason}）；训练时会跳过它们。请修正它们的角色，或换一个模型。"),
    "data.check.no_row_usable": ("No row can be used: {reason}.", "没有任何一行可以使用：{reason}。"),
    "data.check.duplicate": (
        "{count} an earlier row exactly; repeats weigh that example more. Remove them unless that is what you want.",
        "{count}与前面某行完全相同；重复会加大该样本的权重。除非你有意如此，请删除它们。"),
    "data.check.foreign_markup": (
        "{count} the chat markup {marker} in the text. The model's own chat template is applied on top, so the model "
        "would learn this markup as words. Remove it from the data (keep only the message text).",
        "{count}的文本中含有对话标记 {marker}。模型自己的对话模板会再套一层，模型会把这些标记当作文字学习。"
        "请从数据中删除它们（只保留消息文字）。"),
    "data.check.language": (
        "{share:.0f}% of this data is Chinese, Japanese or Korean text, and this model's tokenizer spends "
        "{per_character:.1f} tokens on each such character (its vocabulary was made for other languages, so it "
        "spells them byte by byte): the model learns them slowly, and the tuned model is likely to answer nonsense. "
        "Choose a model that knows these languages (Model tab), e.g. the built-in multilingual Gemma 3 270M "
        "(model.source: gemma-3-270m).",
        "这份数据中 {share:.0f}% 是中文、日文或韩文，而该模型的分词器每个这样的字要用 {per_character:.1f} 个词元"
        "（它的词表是为其他语言做的，只能按字节拼出这些字）：模型学得很慢，微调后很可能答非所问、胡言乱语。"
        "请换一个懂这些语言的模型（“模型与硬件”页），例如内置的多语言模型 Gemma 3 270M"
        "（model.source: gemma-3-270m）。"),
    "data.check.placeholder": (
        "{count} {names} with no value given; fill them in, or the model learns the braces literally. Training "
        "refuses until they are filled.",
        "{count}使用了 {names} 但没有给出值；请填写，否则模型会把花括号当作文字学习。填好之前无法开始训练。"),
    "data.check.name.too_long": ("Too long", "过长"),
    "data.check.name.all_cut": ("Nothing left to learn after the cut", "截断后无可学习内容"),
    "data.check.name.no_eos": ("No end-of-turn token", "缺少轮次结束标记"),
    "data.check.name.duplicate": ("Duplicates", "重复"),
    "data.check.name.foreign_markup": ("Other chat markup", "其他对话标记"),
    "data.check.name.placeholder": ("Unfilled placeholders", "未填写的占位符"),
    "data.check.name.no_template": ("No chat template", "没有对话模板"),
    "data.check.name.template": ("Refused by the chat template", "被对话模板拒绝"),
    "data.check.name.thinking": ("Thinking left out", "思考部分被省略"),
    "data.check.name.thinking_kept": ("Thinking the template leaves out, kept", "模板省略、工作室保留的思考部分"),
    "data.check.name.bad_rows": ("Rows that stop the run", "会使训练停止的行"),
    "data.check.name.language": ("Language the model does not know", "模型不懂的语言"),
    "data.check.split": (
        "Split: {train:,} training rows, {held_out:,} held-out{separate}{replay}.",
        "划分：{train:,} 行用于训练，{held_out:,} 行留出{separate}{replay}。"),
    "data.check.split_separate": (" (from the separate held-out file)", "（来自单独的留出文件）"),
    "data.check.split_replay": ("; plus up to {rows:,} knowledge-replay rows", "；另加至多 {rows:,} 行知识回放数据"),
    "data.check.tokens": (
        "Tokens per row{sample}: median {median:,.0f}, longest {longest:,} (max length {max_length:,}); {share:.0f}% "
        "of the tokens the model sees carry loss.",
        "每行词元数{sample}：中位数 {median:,.0f}，最长 {longest:,}（最大长度 {max_length:,}）；模型看到的词元中有 "
        "{share:.0f}% 参与训练（计入损失）。"),
    "data.check.tokens_sample": (" (from the first {rows:,} rows)", "（取自前 {rows:,} 行）"),
    "data.check.steps": (
        "Steps: {per_epoch:,} per epoch, {total:,} in all; about {tokens:,} trained tokens per epoch.",
        "步数：每轮 {per_epoch:,} 步，共 {total:,} 步；每轮约训练 {tokens:,} 个词元。"),
    "data.check.partial": (
        "These figures cover the first {rows:,} rows; the file holds more, and training reads it all.",
        "以上数字只统计了前 {rows:,} 行；文件中还有更多行，训练时会全部读取。"),
    "data.check.time": (
        "Time: about {per_epoch} per epoch on this machine, at the speed run '{run}' measured.",
        "时间：按运行“{run}”测得的速度，在本机每轮约 {per_epoch}。"),
    "data.check.time_unknown": (
        "Time: known after a first run of this model on this machine (its speed is measured then).",
        "时间：本机第一次用该模型训练后即可得知（届时会测量速度）。"),
}

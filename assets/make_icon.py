"""Draws the studio's icon: assets/icon.png (window, shortcut, favicon) and assets/icon.ico (Windows' Start menu), in
the same shapes as the hand-written assets/icon.svg: an indigo rounded square with a white loss curve falling to a
bright dot. Run `.venv/bin/python assets/make_icon.py` after changing the shapes."""

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
SIZE = 256
BACKGROUND = (79, 70, 229)  # indigo, #4F46E5
CURVE = [(52, 64), (84, 122), (116, 158), (150, 180), (204, 192)]  # the falling loss, in the SVG's 256 units
DOT = (204, 192, 18)  # x, y, radius: the adapter, where the curve settles


def draw(scale: int = 4) -> Image.Image:
    """Draw large, then shrink: PIL's lines have no anti-aliasing of their own."""
    big = SIZE * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((8 * scale, 8 * scale, 248 * scale, 248 * scale), radius=52 * scale, fill=BACKGROUND)
    pen.line([(52 * scale, 208 * scale), (212 * scale, 208 * scale)], fill=(199, 210, 254), width=8 * scale)
    points = [(x * scale, y * scale) for x, y in CURVE]
    pen.line(points, fill="white", width=18 * scale, joint="curve")
    for x, y in points[:1]:
        pen.ellipse((x - 9 * scale, y - 9 * scale, x + 9 * scale, y + 9 * scale), fill="white")
    x, y, r = (v * scale for v in DOT)
    pen.ellipse((x - r, y - r, x + r, y + r), fill=(253, 224, 71))
    return image.resize((SIZE, SIZE), Image.LANCZOS)


if __name__ == "__main__":
    icon = draw()
    icon.save(HERE / "icon.png")
    icon.save(HERE / "icon.ico", sizes=[(16, 16), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])

"""A folder of your own captioned images, read as .NET's ``ImageFolderDataset`` reads it (decoded with Pillow).

Captions: ``metadata.jsonl`` in the root (``{"file_name": ..., "<caption column>": ...}`` lines; only the files it
lists) wins; otherwise every image file under the root, in ordinal path order, hidden files and folders skipped,
captioned by the ``.txt`` file beside it (trimmed), else by its folder's name; an image directly in the root without a
``.txt`` has no caption and is a bad file. Pixels: alpha composited onto black (premultiplied, rounded as Skia does),
the shorter side resized to the size and the centre square kept. Mode: ``image_mode`` ("L" or "RGB") when given, else
the mode most files have (grayscale files: Pillow modes 1, L, LA, I, I;16 = PNG colour types 0 and 4, grayscale
JPEGs; a tie is RGB); in L, RGB images become their ITU-R BT.601 luma ``(299 R + 587 G + 114 B + 500) // 1000``.
Bad files are skipped and listed (``strict`` raises on the first). The images stay in memory as uint8
[N, H, W, C], C = 1 (L) or 3 (RGB).

Differences from .NET: images already at the training size (and non-square images whose shorter side is the size) are
read pixel for pixel as .NET reads them (PNG, BMP, GIF; JPEG through libjpeg as both use it); when an image must be
resized, Pillow's filters (bilinear with antialiasing when shrinking, bicubic when enlarging) differ slightly from
Skia's (mipmapped linear, Mitchell cubic). .NET streams folders larger than 1 GiB decoded; this reader does not.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, UnidentifiedImageError

METADATA_FILE = "metadata.jsonl"
IMAGE_MODES = ("L", "RGB")
# Pillow's modes of grayscale files: PNG colour types 0 (1, L, I, I;16) and 4 (LA), grayscale JPEGs (L).
GRAYSCALE_PIL_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L")
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".ico", ".wbmp"}
# char.IsWhiteSpace, which .NET's String.Trim() removes.
_DOTNET_WHITESPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


class ImageFolderError(ValueError):
    """The folder has no usable image, the sizes do not agree, or (strict mode) a file is bad; the message says which."""


@dataclass
class _Entry:
    path: str
    caption: str
    source: str


@dataclass
class ImageFolderDataset:
    """The opened folder: ``images`` uint8 [N, size, size, 3] (centre squares), ``captions``, the files and what was skipped."""

    folder: str
    image_size: int
    images: np.ndarray
    captions: list[str]
    paths: list[str]
    sources: list[str]
    full_images: list[np.ndarray] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    image_mode: str = "RGB"
    image_mode_note: str | None = None

    @property
    def channels(self) -> int:
        """1 for grayscale (L), 3 for RGB."""
        return 1 if self.image_mode == "L" else 3

    @property
    def count(self) -> int:
        """The number of images."""
        return len(self.captions)

    @property
    def distinct_captions(self) -> list[str]:
        """The distinct captions in ordinal order (a folder's vocabulary is built from these)."""
        return sorted(set(self.captions), key=_ordinal)

    @staticmethod
    def open(folder: str, size: int | None = None, caption_column: str = "text", strict: bool = False,
             keep_full: bool = False, image_mode: str | None = None) -> "ImageFolderDataset":
        """Finds the captions, decodes every image once (skipping bad ones), picks the size and mode and keeps the pixels.

        ``keep_full`` also keeps each image resized with its longer side intact (what the random crop needs).
        ``image_mode``: "L" or "RGB", or None for the folder's majority (a tie is RGB).
        """
        if image_mode is not None and image_mode not in IMAGE_MODES:
            raise ImageFolderError(f"--image-mode must be one of auto, L, RGB, not '{image_mode}'.")
        if size is not None and (size < 8 or size % 4 != 0):
            raise ImageFolderError("--size must be a multiple of 4 and at least 8.")
        if not caption_column or not caption_column.strip():
            raise ImageFolderError("--caption-column must name a metadata.jsonl field, such as \"text\".")
        root = os.path.abspath(folder).rstrip(os.sep) or os.sep
        if not os.path.isdir(root):
            raise ImageFolderError(f"The image folder '{root}' does not exist.")
        skipped: list[tuple[str, str]] = []
        ignored: list[str] = []

        def bad(path: str, reason: str) -> None:
            if strict:
                raise ImageFolderError(f"'{path}': {reason} (strict mode; without it the file would be skipped and reported).")
            skipped.append((path, reason))

        metadata = os.path.join(root, METADATA_FILE)
        listed = (_read_metadata(root, metadata, caption_column, bad) if os.path.isfile(metadata)
                  else _scan_folder(root, bad, ignored))
        decoded: list[tuple[_Entry, np.ndarray]] = []
        grey_files = 0
        for entry in listed:
            try:
                pixels, grey = _decode(entry.path)
                decoded.append((entry, pixels))
                grey_files += grey
            except (OSError, ValueError, Image.DecompressionBombError, SyntaxError) as ex:
                bad(entry.path, _reason(ex))
        if not decoded:
            why = ("it holds no image files" if not skipped
                   else f"all {len(skipped)} candidates were bad: " + "; ".join(f"{p}: {r}" for p, r in skipped[:5]))
            raise ImageFolderError(f"The image folder '{root}' has no usable image: {why}.")
        target = size if size is not None else _infer_size(root, [(e.path, img.shape[1], img.shape[0]) for e, img in decoded])
        rgb_files = len(decoded) - grey_files
        mode = image_mode or ("L" if grey_files > rgb_files else "RGB")
        note = _mode_note(len(decoded), grey_files, mode, image_mode is not None)
        squares, full = [], []
        for _, image in decoded:
            resized = _resize_shorter_side(image, target)
            if mode == "L":
                resized = _luma(resized)
            top = (resized.shape[0] - target) // 2
            left = (resized.shape[1] - target) // 2
            squares.append(resized[top:top + target, left:left + target])
            if keep_full:
                full.append(resized)
        return ImageFolderDataset(
            folder=root, image_size=target, images=np.stack(squares), captions=[e.caption for e, _ in decoded],
            paths=[e.path for e, _ in decoded], sources=[e.source for e, _ in decoded], full_images=full,
            skipped=skipped, ignored=ignored, image_mode=mode, image_mode_note=note)


def _ordinal(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


def _dotnet_trim(text: str) -> str:
    return text.strip(_DOTNET_WHITESPACE)


def _extension(path: str) -> str:
    name = os.path.basename(path)
    dot = name.rfind(".")
    return name[dot:].lower() if dot >= 0 and dot < len(name) - 1 else ""


def _scan_folder(root: str, bad, ignored: list[str]) -> list[_Entry]:
    files = []
    for directory, subfolders, names in os.walk(root):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        files.extend(os.path.join(directory, n) for n in names if not n.startswith("."))
    files.sort(key=_ordinal)
    stems = {f[:len(f) - len(_extension(f))] for f in files if _extension(f) in IMAGE_EXTENSIONS}
    entries = []
    for file in files:
        extension = _extension(file)
        stem = file[:len(file) - len(extension)]
        if extension not in IMAGE_EXTENSIONS:
            if not (extension == ".txt" and stem in stems):
                ignored.append(file)
            continue
        sidecar = stem + ".txt"
        parent = os.path.dirname(file)
        if os.path.isfile(sidecar):
            with open(sidecar, encoding="utf-8-sig", errors="replace") as stream:
                text = _dotnet_trim(stream.read())
            if not text:
                bad(file, f"its caption file '{os.path.basename(sidecar)}' is empty")
                continue
            entries.append(_Entry(file, text, "txt"))
        elif parent != root:
            entries.append(_Entry(file, os.path.basename(parent), "folder"))
        else:
            bad(file, f"it has no caption: put it in a class folder, add '{os.path.basename(sidecar)}' beside it, or list it in {METADATA_FILE}")
    return entries


def _read_metadata(root: str, metadata: str, column: str, bad) -> list[_Entry]:
    with open(metadata, encoding="utf-8-sig", errors="replace", newline="") as stream:
        text = stream.read()
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    entries = []
    for number, line in enumerate(lines, start=1):
        if not _dotnet_trim(line):
            continue
        where = f"{metadata}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as ex:
            bad(where, f"the line is not valid JSON ({ex})")
            continue
        if not isinstance(record, dict):
            bad(where, "the line is not a JSON object")
            continue
        file_name = record.get("file_name") if isinstance(record.get("file_name"), str) else None
        caption = record.get(column) if isinstance(record.get(column), str) else None
        if file_name is None or not _dotnet_trim(file_name):
            bad(where, "the line has no \"file_name\" string")
            continue
        path = os.path.normpath(os.path.join(root, file_name))
        if not path.startswith(root + os.sep):
            bad(where, f"\"file_name\" '{file_name}' points outside the folder; give a path relative to it")
            continue
        if caption is None or not _dotnet_trim(caption):
            bad(where, f"the line has no non-empty \"{column}\" string (the caption column; set it with --caption-column)")
            continue
        if not os.path.isfile(path):
            bad(path, f"listed in {METADATA_FILE} line {number} but the file is missing")
            continue
        entries.append(_Entry(path, _dotnet_trim(caption), "metadata.jsonl"))
    return entries


def _decode(path: str) -> tuple[np.ndarray, bool]:
    """RGB uint8 [H, W, 3], alpha premultiplied (composited onto black) with Skia's rounding; and whether the file is grayscale."""
    if os.path.getsize(path) == 0:
        raise ValueError("the file is empty (0 bytes)")
    with Image.open(path) as image:
        image.load()
        grey = image.mode in GRAYSCALE_PIL_MODES
        if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
            rgba = np.asarray(image.convert("RGBA"), dtype=np.uint32)
            product = rgba[..., :3] * rgba[..., 3:4] + 128
            return ((product + (product >> 8)) >> 8).astype(np.uint8), grey
        return np.asarray(image.convert("RGB"), dtype=np.uint8).copy(), grey


def _luma(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma, .NET's ``RgbImage.Luma``: uint8 [H, W, 1]."""
    wide = rgb.astype(np.uint32)
    return ((299 * wide[..., 0] + 587 * wide[..., 1] + 114 * wide[..., 2] + 500) // 1000).astype(np.uint8)[..., None]


def _mode_note(total: int, grey_files: int, mode: str, asked: bool) -> str | None:
    """.NET's ``ImageFolderDataset.ImageModeNote``: which images were converted and why; None when none was."""
    rgb_files = total - grey_files
    converted = rgb_files if mode == "L" else grey_files
    if converted == 0:
        return None
    counts = (f"{rgb_files} of {total} images are RGB, {grey_files} grayscale" if mode == "L"
              else f"{grey_files} of {total} images are grayscale, {rgb_files} RGB")
    why = ("as set (--image-mode / ImageFolderOptions.ImageMode)" if asked
           else "(a tie keeps colour, which loses nothing)" if mode == "RGB" and grey_files == rgb_files
           else "(the majority)")
    how = ("the RGB images are converted with ITU-R BT.601 luma" if mode == "L"
           else "the grayscale images' grey g becomes (g, g, g)")
    return f"{counts}: training in {'grayscale (L)' if mode == 'L' else 'RGB'} {why}; {how}."


def _reason(ex: Exception) -> str:
    if isinstance(ex, ValueError) and not isinstance(ex, Image.DecompressionBombError):
        return str(ex)
    if isinstance(ex, UnidentifiedImageError):
        return "not an image in a format Pillow decodes (PNG, JPEG, GIF, BMP, WebP, ICO)"
    text = str(ex) or type(ex).__name__
    return "the file is truncated" if "truncated" in text.lower() else f"not readable as an image ({text})"


def _infer_size(root: str, sizes: list[tuple[str, int, int]]) -> int:
    distinct = sorted({(w, h) for _, w, h in sizes})
    if len(distinct) == 1 and distinct[0][0] == distinct[0][1]:
        side = distinct[0][0]
        if side >= 8 and side % 4 == 0:
            return side
        raise ImageFolderError(f"The images in '{root}' are {side}x{side}, which the U-Net cannot use (it needs a multiple of 4, at least 8); set --size, e.g. {max(8, (side + 3) // 4 * 4)}.")
    examples = ", ".join(f"{w}x{h}" for w, h in distinct[:4])
    raise ImageFolderError(f"The images in '{root}' do not share one square size ({examples}); set --size (a multiple of 4) and each image is resized and centre-cropped to it.")


def _resize_shorter_side(image: np.ndarray, size: int) -> np.ndarray:
    height, width = image.shape[:2]
    shorter = min(width, height)
    if shorter == size:
        return image
    scale = size / shorter
    # Python's round() is .NET's Math.Round (to even on ties).
    new_width = size if width == shorter else max(size, round(width * scale))
    new_height = size if height == shorter else max(size, round(height * scale))
    resample = Image.BOX if scale < 1 else Image.BICUBIC
    return np.asarray(Image.fromarray(image).resize((new_width, new_height), resample), dtype=np.uint8).copy()


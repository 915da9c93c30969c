"""Active content out of the PDFs we hand out: JavaScript (document, open, page, field and
annotation actions), Launch and other actions that run or fetch something, additional actions
(/AA), embedded and associated files, XFA forms, RichMedia and other multimedia annotations.
Links (URI, GoTo, named actions) stay.

``strip_active_content`` edits an open document in place and says what it removed; at upload it
runs on a throwaway copy, to tell staff what customer copies will not carry. Objects it cuts off
are not written: qpdf saves only what is still reachable."""

from __future__ import annotations

import pikepdf
from pikepdf import Array, Dictionary, Name

# Actions that only move within the document, follow a link or toggle layers.
SAFE_ACTIONS = frozenset({"/GoTo", "/URI", "/Named", "/Thread", "/SetOCGState"})
_ACTION_LABELS = {
    "/JavaScript": "JavaScript",
    "/Launch": "Launch action (opens a file or program)",
    "/GoToE": "action opening an embedded file",
    "/GoToR": "action opening another file",
    "/SubmitForm": "form submission action",
    "/ImportData": "data import action",
    "/RichMediaExecute": "RichMedia action",
    "/Rendition": "multimedia action",
    "/Movie": "multimedia action",
    "/Sound": "multimedia action",
}
_ANNOTATION_LABELS = {
    "/FileAttachment": "embedded file (attachment annotation)",
    "/RichMedia": "RichMedia content",
    "/Screen": "multimedia content",
    "/Movie": "multimedia content",
    "/Sound": "multimedia content",
    "/3D": "3D content",
}
# Keys of any dictionary that carry active content or a file.
_KEY_LABELS = {
    "/AA": "additional actions (AA)",
    "/EF": "embedded file",
    "/AF": "associated file",
    "/RichMediaContent": "RichMedia content",
    "/JS": "JavaScript",
}
_WATCHED = frozenset({*_KEY_LABELS, "/A", "/Annots", "/S"})
_NEXT_DEPTH = 8


class _Found:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    def add(self, label: str) -> None:
        self.seen.add(label)

    def labels(self) -> list[str]:
        return sorted(self.seen)


def _action_types(action: object, depth: int = 0) -> list[str]:
    """The types (``/S``) of an action and of the actions it chains to (``/Next``: one action
    or an array of them). A destination (an array or a name) is no action."""
    if depth > _NEXT_DEPTH:
        return ["/Unknown"]
    if not isinstance(action, Dictionary):
        return []
    kind = action.get("/S")
    types = [str(kind)] if isinstance(kind, Name) else []
    if "/JS" in action:
        types.append("/JavaScript")
    chained = action.get("/Next")
    for item in chained if isinstance(chained, Array) else [chained]:
        types.extend(_action_types(item, depth + 1))
    return types


def _risky_action(action: object, found: _Found) -> bool:
    risky = [t for t in _action_types(action) if t not in SAFE_ACTIONS]
    for kind in dict.fromkeys(risky):
        found.add(_ACTION_LABELS.get(kind, f"{kind.lstrip('/')} action"))
    return bool(risky)


def _clean_catalog(root: pikepdf.Object, found: _Found) -> None:
    names = root.get("/Names")
    if isinstance(names, Dictionary):
        if "/JavaScript" in names:
            found.add("document-level JavaScript")
            del names["/JavaScript"]
        if "/EmbeddedFiles" in names:
            found.add("embedded files")
            del names["/EmbeddedFiles"]
    if "/OpenAction" in root and _risky_action(root.get("/OpenAction"), found):
        del root["/OpenAction"]
    form = root.get("/AcroForm")
    if isinstance(form, Dictionary) and "/XFA" in form:
        found.add("XFA form")
        del form["/XFA"]
    for key in ("/NeedsRendering", "/Collection"):  # XFA rendering; a portfolio of files
        if key in root:
            del root[key]


def _clean_annotations(holder: Dictionary | pikepdf.Stream, found: _Found, depth: int) -> None:
    """Drop file, multimedia and 3D annotations from ``holder``'s /Annots and clean the
    annotations written directly in the array (indirect ones are visited on their own)."""
    annots = holder.get("/Annots")
    if not isinstance(annots, Array):
        return
    kept = Array()
    for annot in annots:
        if isinstance(annot, Dictionary):
            subtype = annot.get("/Subtype")
            label = _ANNOTATION_LABELS.get(str(subtype)) if isinstance(subtype, Name) else None
            if label is not None:
                found.add(label)
                continue
            if not annot.is_indirect:
                _clean_dict(annot, found, depth + 1)
        kept.append(annot)
    if len(kept) != len(annots):
        holder["/Annots"] = kept


def _clean_dict(obj: Dictionary | pikepdf.Stream, found: _Found, depth: int = 0) -> None:
    """Remove active keys from one dictionary (or stream dictionary)."""
    keys = obj.keys()
    if not keys & _WATCHED or depth > 8:
        return
    for key in keys & _KEY_LABELS.keys():
        found.add(_KEY_LABELS[key])
        del obj[key]
    if "/A" in keys and _risky_action(obj.get("/A"), found):
        del obj["/A"]
    if "/Annots" in keys:
        _clean_annotations(obj, found, depth)
    kind = obj.get("/S") if "/S" in keys else None
    if isinstance(kind, Name) and str(kind) in _ACTION_LABELS:
        # An action reached some other way than the keys above: left with no effect.
        found.add(_ACTION_LABELS[str(kind)])
        for key in list(obj.keys()):
            del obj[key]


def strip_active_content(pdf: pikepdf.Pdf) -> list[str]:
    """Remove active content from ``pdf`` (in place); what was removed, for people to read.

    Every indirect object is looked at (one key-set test each: qpdf parses them all for the
    save anyway); direct objects where readers run actions from are followed: the actions of
    /A and their /Next chains, annotations written inside /Annots."""
    found = _Found()
    _clean_catalog(pdf.Root, found)
    for obj in pdf.objects:
        if isinstance(obj, Dictionary | pikepdf.Stream):
            _clean_dict(obj, found)
    return found.labels()

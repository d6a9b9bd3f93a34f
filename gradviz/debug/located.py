"""What every finding says about its node: the primitive's short name and the user's line."""

from __future__ import annotations

import os


class AtNode:
    """For findings (dataclasses) with ``primitive``, ``site`` and ``code`` fields from the node's record."""

    outside = ""  # what ``where`` says for a node not made by the user's code

    @property
    def name(self) -> str:
        return (self.primitive or "input").rsplit(".", 1)[-1]

    @property
    def where(self) -> str:
        """``file.py:12 `code``` for the user's line that made the node."""
        if self.site is None:
            return self.outside
        text = f"{os.path.basename(self.site.file)}:{self.site.line}"
        return text + (f" `{self.code}`" if self.code else "")

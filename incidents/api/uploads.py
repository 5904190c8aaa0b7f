"""What `POST incidents/import/` accepts: a multipart `file`, a JSON list, or a CSV body."""

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import BaseParser

from incidents.importing import ImportFileError, read_records, records_from_json
from incidents.strict_query import ensure_only_parameters


class CSVTextParser(BaseParser):
    """A CSV body (`Content-Type: text/csv`), handed to the import as text."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return stream.read().decode("utf-8-sig") if stream else ""
        except UnicodeDecodeError as error:
            raise ParseError(f"The CSV is not UTF-8: {error}") from None


def import_options(query) -> bool:
    """The import's one parameter, `dry_run` (true/false); anything else is a 400."""
    ensure_only_parameters(query, frozenset({"dry_run"}))
    value = query.get("dry_run", "false").lower()
    if value not in ("true", "false"):
        raise ValidationError({"dry_run": ["Give true or false."]})
    return value == "true"


def uploaded_records(request) -> list:
    """The numbered records of the uploaded file (multipart `file`), or of a JSON or CSV body."""
    try:
        if "file" in request.FILES:
            upload = request.FILES["file"]
            text = upload.read().decode("utf-8-sig")
            file_format = "csv" if upload.name.lower().endswith(".csv") else None
            return read_records(text, file_format)
        if isinstance(request.data, str):
            return read_records(request.data, "csv")
        if isinstance(request.data, list) or (isinstance(request.data, dict) and "results" in request.data):
            return records_from_json(request.data)
    except UnicodeDecodeError:
        raise ValidationError({"file": ["The file is not UTF-8 text."]}) from None
    except ImportFileError as error:
        raise ValidationError({"file": [str(error)]}) from None
    raise ValidationError({"file": ["Upload a CSV or JSON file as `file` (multipart), or send a JSON list or CSV."]})

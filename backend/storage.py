"""Where uploaded files live: a local directory (UPLOAD_DIR, the embedded default, for one web node)
or an S3-compatible bucket every web node reaches (STORAGE_URL=s3://bucket[/prefix], with
S3_ENDPOINT_URL for a non-AWS server and the usual AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).

A file is named by its key, the path after /uploads/ in the URL stored with its order or wish. Files
are never handed out by the store's own URL: every read goes through a view that checks who may see
the order first, and then streams the bytes (`send`), so a bucket can stay private."""
import logging
import re
from pathlib import Path

from flask import Response, current_app, request, send_file, stream_with_context

from .errors import DomainError


class StorageUnavailable(DomainError):
    """The bucket did not answer: nothing was stored, and the person is told to try again."""
    status = 503
    code = "storage_unavailable"

log = logging.getLogger(__name__)

PREFIX = "/uploads/"
_CLEAN_KEY = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*\.[a-z0-9]{1,5}$")


def key_of(url: str | None) -> str | None:
    """The key behind one of our /uploads/ URLs, or None for another site's URL or a name we never
    make (every key is folder/day/uuid.ext: no '..', no absolute path)."""
    if not url or not url.startswith(PREFIX):
        return None
    key = url[len(PREFIX):]
    return key if len(key) <= 300 and _CLEAN_KEY.match(key) else None


class LocalStore:
    def __init__(self, root: str):
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError(f"key outside the upload directory: {key!r}")
        return path

    def put(self, key: str, body: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def send(self, key: str, content_type: str) -> Response:
        return send_file(self._path(key), mimetype=content_type, conditional=True)


class S3Store:
    """An S3-compatible bucket through boto3 (AWS S3, MinIO, Ceph RGW, OSS/COS in S3 mode…)."""

    def __init__(self, url: str, endpoint_url: str | None, region: str | None):
        import boto3
        from botocore.config import Config
        bucket, _, prefix = url[len("s3://"):].partition("/")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None,
                                   config=Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 3}))

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, body: bytes, content_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=body, ContentType=content_type)
        except (BotoCoreError, ClientError) as exc:
            log.warning("object storage refused %s: %s", key, exc)
            raise StorageUnavailable("照片暂时无法保存，请稍后再试") from exc

    def exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return False
            raise StorageUnavailable("照片暂时无法读取，请稍后再试") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable("照片暂时无法读取，请稍后再试") from exc

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()

    def delete(self, key: str) -> None:
        """Best effort (a file left behind is found by the bucket's listing; a refused change must
        not fail for it)."""
        from botocore.exceptions import BotoCoreError, ClientError
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError) as exc:
            log.warning("object storage could not delete %s: %s", key, exc)

    def send(self, key: str, content_type: str) -> Response:
        """The object streamed through this node (the bucket stays private); 304 when the browser
        already holds this version."""
        from botocore.exceptions import BotoCoreError, ClientError
        asked = {"IfNoneMatch": request.headers["If-None-Match"]} if request.headers.get("If-None-Match") else {}
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self._key(key), **asked)
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 304:
                return Response(status=304, headers={"ETag": request.headers["If-None-Match"]})
            raise StorageUnavailable("照片暂时无法读取，请稍后再试") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable("照片暂时无法读取，请稍后再试") from exc
        body = obj["Body"]
        return Response(stream_with_context(body.iter_chunks(64 * 1024)), mimetype=content_type,
                        headers={"Content-Length": str(obj["ContentLength"]), "ETag": obj["ETag"]})


def store():
    """The app's file store: the bucket's client is made once per app and setting; the local
    directory is read from UPLOAD_DIR each time (tests give each their own)."""
    app = current_app._get_current_object()
    url = app.config.get("STORAGE_URL") or ""
    if not url.startswith("s3://"):
        return LocalStore(app.config["UPLOAD_DIR"])
    setting = (url, app.config.get("S3_ENDPOINT_URL"), app.config.get("S3_REGION"))
    cached = app.extensions.get("file_store")
    if cached is None or cached[0] != setting:
        cached = (setting, S3Store(*setting))
        app.extensions["file_store"] = cached
    return cached[1]


def stored_key(url: str | None) -> str | None:
    """The key behind an /uploads/ URL when that file is (still) stored, else None."""
    key = key_of(url)
    return key if key is not None and store().exists(key) else None

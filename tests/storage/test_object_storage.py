"""Photos on S3-compatible object storage (STORAGE_URL=s3://…), as several web nodes share them: a
resident's upload lands in the bucket, not on this node's disk; any node serves it to those who may
see its order, and to nobody else; a refused change and a deleted resident leave no object behind;
a bucket that does not answer is a clear 503, never a 500."""
import io

import pytest
from sqlalchemy import select

from backend.orders.models import Attachment
from tests.conftest import ROOT

PNG = (ROOT / "tests/fixtures/wechat/media.png").read_bytes()


def _objects(client, bucket) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]


def _upload(client, order, headers, body=PNG):
    return client.post(f"/api/v1/orders/{order.number}/photos", data={"photo": (io.BytesIO(body), "p.png")},
                       headers=headers, content_type="multipart/form-data")


def test_a_photo_goes_to_the_bucket_and_every_node_serves_it_to_its_readers_only(
        app, client, make, auth, db, s3_storage, tmp_path, monkeypatch):
    s3, bucket = s3_storage
    world = make.world()
    order = make.order(world["resident"])
    stranger = make.resident()
    db.session.commit()
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "node-a"))
    added = _upload(client, order, auth.headers_for(world["resident"]))
    assert added.status_code == 201, added.json
    url = added.json["photos"][0]
    [key] = _objects(s3, bucket)
    assert key == "uploads/" + url[len("/uploads/"):]
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == PNG
    assert not (tmp_path / "node-a").exists() or not any((tmp_path / "node-a").rglob("*.*"))  # not on this node

    # Another web node: its own (empty) local directory, the same bucket.
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "node-b"))
    for who in (world["resident"], world["workers"][0], world["community_admin"]):
        served = client.get(url, headers=auth.headers_for(who))
        assert served.status_code == 200 and served.data == PNG and served.mimetype == "image/png"
        assert "private" in served.headers["Cache-Control"]
    again = client.get(url, headers={**auth.headers_for(world["resident"]), "If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert client.get(url, headers=auth.headers_for(stranger)).status_code == 404
    assert client.get(url, headers=auth.headers_for(world["workers"][1])).status_code == 404  # the other grid


def test_a_refused_photo_and_a_deleted_residents_photos_leave_no_object(app, client, make, auth, db, s3_storage):
    s3, bucket = s3_storage
    world = make.world()
    resident = world["resident"]
    resident.openid = "o-s3-delete"
    order = make.order(resident)
    db.session.commit()
    disguised = _upload(client, order, auth.headers_for(resident), body=b"<html>not a photo</html>")
    assert disguised.status_code == 422 and _objects(s3, bucket) == []
    assert _upload(client, order, auth.headers_for(resident)).status_code == 201
    assert len(_objects(s3, bucket)) == 1
    assert app.test_cli_runner().invoke(args=["delete-resident", "o-s3-delete", "--yes"]).exit_code == 0
    assert _objects(s3, bucket) == []
    db.session.rollback()
    assert db.session.scalars(select(Attachment.url).where(Attachment.order_id == order.id)).all() == []


def test_a_bucket_that_does_not_answer_is_a_clear_503_and_the_order_keeps_what_it_had(
        app, client, make, auth, db, s3_storage, monkeypatch):
    from tests.conftest import _free_port
    world = make.world()
    order = make.order(world["resident"])
    db.session.commit()
    monkeypatch.setitem(app.config, "S3_ENDPOINT_URL", f"http://127.0.0.1:{_free_port()}")  # nobody there
    refused = _upload(client, order, auth.headers_for(world["resident"]))
    assert refused.status_code == 503, refused.json
    assert refused.json["error"]["code"] == "storage_unavailable" and "照片" in refused.json["error"]["message"]
    db.session.rollback()
    assert db.session.scalars(select(Attachment).where(Attachment.order_id == order.id)).all() == []
    assert client.get(f"/api/v1/orders/{order.number}", headers=auth.headers_for(world["resident"])).status_code == 200

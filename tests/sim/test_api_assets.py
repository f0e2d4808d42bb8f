"""Contract tests: projects, asset import (URDF, meshes, USD), segmentation and linkages."""

from __future__ import annotations

import pytest
import trimesh

from ridgeline.sim import Model
from tests.conftest import require_shared
from tests.sim.api_helpers import SIM, assert_error

pytestmark = pytest.mark.db

BAD_URDF = b"""<robot name="loop">
  <link name="a"><inertial><mass value="1"/><inertia ixx="1" iyy="1" izz="1" ixy="0" ixz="0" iyz="0"/></inertial></link>
  <link name="b"><inertial><mass value="1"/><inertia ixx="1" iyy="1" izz="1" ixy="0" ixz="0" iyz="0"/></inertial></link>
  <joint name="j1" type="revolute"><parent link="a"/><child link="b"/><axis xyz="0 0 1"/></joint>
  <joint name="j2" type="revolute"><parent link="b"/><child link="a"/><axis xyz="0 0 1"/></joint>
</robot>"""

CUBE_USDA = b"""#usda 1.0
(
    metersPerUnit = 0.01
)
def Mesh "cube"
{
    int[] faceVertexCounts = [4, 4, 4, 4, 4, 4]
    int[] faceVertexIndices = [0, 1, 3, 2, 2, 3, 7, 6, 6, 7, 5, 4, 4, 5, 1, 0, 2, 6, 4, 0, 7, 3, 1, 5]
    point3f[] points = [(-5, -5, 5), (5, -5, 5), (-5, 5, 5), (5, 5, 5), (-5, -5, -5), (5, -5, -5), (-5, 5, -5), (5, 5, -5)]
}
"""


def two_part_stl() -> bytes:
    box = trimesh.creation.box((0.1, 0.2, 0.3))
    ball = trimesh.creation.icosphere(subdivisions=2, radius=0.05)
    ball.apply_translation([1.0, 0.0, 0.0])
    return trimesh.util.concatenate([box, ball]).export(file_type="stl")


def upload(c, name: str, data: bytes, **fields: str):  # type: ignore[no-untyped-def]
    return c.post(
        f"{SIM}/api/assets/import", files={"file": (name, data, "application/octet-stream")}, data=fields
    )


def test_projects(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    assert c.get(f"{SIM}/api/projects").json() == {"projects": [], "count": 0}
    r = c.post(f"{SIM}/api/projects", json={"name": "warehouse arm", "description": "sim2real study"})
    assert r.status_code == 201
    p = r.json()
    assert p["name"] == "warehouse arm" and len(p["id"]) == 32
    listed = c.get(f"{SIM}/api/projects").json()
    assert listed["count"] == 1 and listed["projects"][0] == p
    assert_error(c.post(f"{SIM}/api/projects", json={"name": ""}), 422, "invalid_request")
    assert_error(c.post(f"{SIM}/api/projects", json={}), 422, "invalid_request")


def test_import_urdf_validated_by_the_core_and_runnable(make_client) -> None:  # type: ignore[no-untyped-def]
    path = require_shared("sim/urdf/iiwa.urdf")
    c = make_client()
    project = c.post(f"{SIM}/api/projects", json={"name": "p"}).json()["id"]
    r = upload(c, "iiwa.urdf", path.read_bytes(), project_id=project)
    assert r.status_code == 201, r.text
    a = r.json()
    expected = Model.from_urdf(path)
    assert a["kind"] == "urdf" and a["format"] == "urdf" and a["project_id"] == project
    assert a["summary"]["joint_names"] == expected.joint_names and a["summary"]["nq"] == 7
    assert a["summary"]["total_mass"] == pytest.approx(expected.total_mass)
    listed = c.get(f"{SIM}/api/assets", params={"project_id": project}).json()
    assert [x["id"] for x in listed["assets"]] == [a["id"]]
    # usable as a robot by id and by name
    for ref in (a["id"], "iiwa.urdf"):
        run = c.post(f"{SIM}/api/sim/run", json={"urdf_path": ref, "steps": 20, "dt": 0.002})
        assert run.status_code == 200 and run.json()["status"] == "SUCCEEDED", run.text
        assert run.json()["run"]["robot"] == a["id"]


def test_bad_urdf_and_go1_are_rejected_and_store_nothing(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    body = assert_error(upload(c, "loop.urdf", BAD_URDF), 422, "invalid_urdf")
    assert "invalid URDF" in body["detail"]
    assert_error(upload(c, "broken.urdf", b"<robot name='x'><link"), 422, "invalid_urdf")
    assert_error(upload(c, "bin.urdf", b"\xff\xfe\x00"), 422, "invalid_urdf")
    go1 = require_shared("sim/urdf/go1.urdf")
    body = assert_error(upload(c, "go1.urdf", go1.read_bytes()), 422, "invalid_urdf")
    assert "inertia" in body["detail"].lower()
    assert_error(upload(c, "empty.urdf", b""), 422, "empty_file")
    assert c.get(f"{SIM}/api/assets").json()["count"] == 0
    assert_error(upload(c, "x.urdf", b"<robot/>", project_id="nope"), 404, "project_not_found")


def test_mesh_import_mass_properties_and_bad_meshes(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    r = upload(c, "two.stl", two_part_stl(), density="2700")
    assert r.status_code == 201, r.text
    s = r.json()["summary"]
    assert r.json()["kind"] == "mesh" and s["components"] == 2
    mp = s["mass_properties"]
    ball = trimesh.creation.icosphere(subdivisions=2, radius=0.05)
    assert mp["volume"] == pytest.approx(0.1 * 0.2 * 0.3 + ball.volume, rel=1e-6)
    assert mp["mass"] == pytest.approx(2700 * mp["volume"], rel=1e-9)
    assert mp["watertight"] is True and mp["source"] == "mesh"
    # OBJ, in millimetres scaled to metres
    obj = trimesh.creation.box((100.0, 100.0, 100.0)).export(file_type="obj")
    r = upload(c, "cube.obj", obj.encode() if isinstance(obj, str) else obj, scale="0.001")
    assert r.status_code == 201, r.text
    assert r.json()["summary"]["mass_properties"]["mass"] == pytest.approx(1.0, rel=1e-9)  # 1 dm^3 of water
    # bad meshes: clear errors, nothing stored
    assert_error(upload(c, "junk.stl", b"solid junk\nthis is not a mesh\n"), 422, "invalid_mesh")
    assert_error(upload(c, "empty.obj", b"# nothing\n"), 422, "invalid_mesh")
    flat = trimesh.Trimesh(vertices=[[0, 0, 0], [1, 0, 0], [0, 1, 0]], faces=[[0, 1, 2]]).export(
        file_type="stl"
    )
    assert_error(upload(c, "flat.stl", flat), 422, "invalid_mesh")
    assert_error(upload(c, "cad.step", b"ISO-10303-21;"), 415, "unsupported_format")
    assert_error(upload(c, "two.stl", two_part_stl(), density="-1"), 422, "invalid_mesh")
    assert c.get(f"{SIM}/api/assets").json()["count"] == 2
    assert c.get(f"{SIM}/api/assets", params={"kind": "urdf"}).json()["count"] == 0


def test_usd_import(make_client) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("pxr", reason="usd-core not installed")
    c = make_client()
    r = upload(c, "cube.usda", CUBE_USDA, density="1000")
    assert r.status_code == 201, r.text
    mp = r.json()["summary"]["mass_properties"]
    assert mp["volume"] == pytest.approx(0.001, rel=1e-9)  # 10 cm cube at metersPerUnit 0.01
    assert mp["inertia"][0][0] == pytest.approx(1.0 * 0.1**2 / 6, rel=1e-9)
    assert_error(upload(c, "bad.usda", b'#usda 1.0\ndef Xform "x" {\n'), 422, "invalid_usd")


def test_segment_and_linkage_export_round_trip(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    asset = upload(c, "two.stl", two_part_stl(), density="1000").json()
    seg = c.post(f"{SIM}/api/design/segment", json={"asset_id": asset["id"]})
    assert seg.status_code == 200, seg.text
    parts = seg.json()["parts"]
    assert seg.json()["count"] == 2 and [p["index"] for p in parts] == [0, 1]
    assert parts[0]["mass_properties"]["mass"] == pytest.approx(6.0, rel=1e-6)  # the box, largest first
    assert parts[1]["mass_properties"]["center_of_mass"][0] == pytest.approx(1.0, abs=1e-6)  # STL is float32
    assert seg.json()["total_mass"] == pytest.approx(asset["summary"]["mass_properties"]["mass"], rel=1e-9)
    body = {
        "name": "pendulum_arm",
        "links": [
            {"name": "base", "asset_id": asset["id"], "part_index": 0},
            {
                "name": "bob",
                "mass": 2.0,
                "center_of_mass": [0.5, 0, 0],
                "inertia": [[0.01, 0, 0], [0, 0.02, 0], [0, 0, 0.03]],
            },
        ],
        "joints": [
            {
                "name": "hinge",
                "type": "revolute",
                "parent": "base",
                "child": "bob",
                "axis": [0, 0, 1],
                "lower": -1,
                "upper": 1,
            }
        ],
        "export_urdf": True,
    }
    r = c.post(f"{SIM}/api/design/linkage", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (
        out["root"] == "base" and out["dof"] == 1 and [lk["name"] for lk in out["links"]] == ["base", "bob"]
    )
    assert out["verified"]["joint_names"] == ["hinge"]
    # the core reads the exported URDF back to the same model: M = I_zz + m d^2 about the hinge
    model = Model.from_urdf_string(out["urdf"])
    assert model.mass_matrix([0.3])[0, 0] == pytest.approx(0.03 + 2.0 * 0.5**2, rel=1e-12)
    assert out["total_mass"] == pytest.approx(8.0, rel=1e-6)  # box part (6 kg) + bob
    assert model.total_mass == out["verified"]["total_mass"] == 2.0  # the root is welded to the world
    run = c.post(f"{SIM}/api/sim/run", json={"urdf_path": out["asset"]["id"], "steps": 20})
    assert run.json()["status"] == "SUCCEEDED"


def test_segment_and_linkage_errors(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    assert_error(c.post(f"{SIM}/api/design/segment", json={"asset_id": "nope"}), 404, "asset_not_found")
    urdf = upload(
        c,
        "p.urdf",
        b"""<robot name="p"><link name="a"><inertial><mass value="1"/>
      <inertia ixx="1" iyy="1" izz="1" ixy="0" ixz="0" iyz="0"/></inertial></link></robot>""",
    )
    assert urdf.status_code == 201, urdf.text
    assert_error(c.post(f"{SIM}/api/design/segment", json={"asset_id": urdf.json()["id"]}), 422, "not_a_mesh")
    inertia = [[0.01, 0, 0], [0, 0.01, 0], [0, 0, 0.01]]
    links = [{"name": n, "mass": 1.0, "inertia": inertia} for n in ("a", "b", "c")]
    cycle = [
        {"name": "j1", "type": "revolute", "parent": "a", "child": "b"},
        {"name": "j2", "type": "revolute", "parent": "b", "child": "c"},
        {"name": "j3", "type": "revolute", "parent": "c", "child": "b"},
    ]
    assert_error(
        c.post(f"{SIM}/api/design/linkage", json={"name": "x", "links": links, "joints": cycle}),
        422,
        "invalid_linkage",
    )
    two_roots = [{"name": "j1", "type": "revolute", "parent": "a", "child": "b"}]
    body = assert_error(
        c.post(f"{SIM}/api/design/linkage", json={"name": "x", "links": links, "joints": two_roots}),
        422,
        "invalid_linkage",
    )
    assert "root" in body["detail"]
    bad_inertia = [{"name": "a", "mass": 1.0, "inertia": [[1, 0, 0], [0, -1, 0], [0, 0, 1]]}]
    assert_error(
        c.post(f"{SIM}/api/design/linkage", json={"name": "x", "links": bad_inertia, "joints": []}),
        422,
        "invalid_linkage",
    )
    unknown = [{"name": "j1", "type": "revolute", "parent": "a", "child": "zz"}]
    assert_error(
        c.post(f"{SIM}/api/design/linkage", json={"name": "x", "links": links, "joints": unknown}),
        422,
        "invalid_linkage",
    )
    assert c.get(f"{SIM}/api/assets").json()["count"] == 1  # failed linkages stored nothing


def test_example_robots_are_seeded_once_when_defaults_are_on(make_client) -> None:  # type: ignore[no-untyped-def]
    first = make_client(seed_defaults=True)
    assets = first.get(f"{SIM}/api/assets").json()["assets"]
    assert sorted(a["name"] for a in assets) == ["pendulum.urdf", "simple_robot.urdf"]
    assert {a["source"] for a in assets} == {"example"}
    make_client(seed_defaults=True)  # a second worker on the same database adds nothing
    assert first.get(f"{SIM}/api/assets").json()["count"] == 2
    by_name = {a["name"]: a["id"] for a in assets}
    run = first.post(f"{SIM}/api/sim/run", json={"urdf_path": by_name["pendulum.urdf"], "steps": 10})
    assert run.json()["status"] == "SUCCEEDED"

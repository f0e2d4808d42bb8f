"""Robot assets: URDF validation, mesh import with mass properties, segmentation, linkages.

- URDF is validated by the core's own parser (:meth:`Model.from_urdf_string`): a file the engine
  cannot simulate is rejected with the parser's message (naming the link or joint).
- Meshes (STL, OBJ, PLY, GLB) are read with ``trimesh``; USD (``.usd``, ``.usda``, ``.usdc``) through
  ``usd-core`` when it is installed. Mass properties assume a uniform ``density`` (kg/m^3) after
  scaling by ``scale`` (e.g. 0.001 for millimetre meshes). A mesh that is not watertight has no
  well-defined volume: its mass properties come from its convex hull and say so.
- :func:`segment` splits a mesh into its connected components (faces sharing an edge after
  merging coincident vertices; solids touching along a face or an edge stay separate), each with
  its own mass properties.
- :func:`build_linkage` assembles parts and joint specs into a kinematic tree and can export URDF
  that the core parses back to the same model.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from collections.abc import Sequence
from typing import Annotated, Any, Literal
from xml.sax.saxutils import quoteattr

import msgspec
import numpy as np

from ridgeline.platform.problems import EngineError
from ridgeline.sim.model import Model

URDF_EXTENSIONS = (".urdf", ".xml")
MESH_EXTENSIONS = (".stl", ".obj", ".ply", ".glb", ".off")
USD_EXTENSIONS = (".usd", ".usda", ".usdc")
MAX_FACES = 2_000_000


class AssetError(EngineError, ValueError):
    """A bad or unsupported asset; ``reason_code`` says which (415 for an unsupported format, else 422)."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(415 if reason_code == "unsupported_format" else 422, reason_code, message)


class MassProperties(msgspec.Struct, kw_only=True):
    """Rigid-body properties of a solid of uniform density."""

    mass: Annotated[float, msgspec.Meta(description="kg")]
    volume: Annotated[float, msgspec.Meta(description="m^3")]
    density: Annotated[float, msgspec.Meta(description="kg/m^3 used")]
    center_of_mass: Annotated[list[float], msgspec.Meta(description="[x, y, z] in the mesh frame (m)")]
    inertia: Annotated[
        list[list[float]], msgspec.Meta(description="3x3 inertia tensor about the centre of mass (kg m^2)")
    ]
    watertight: Annotated[bool, msgspec.Meta(description="whether the surface is closed")]
    source: Annotated[
        Literal["mesh", "convex_hull"],
        msgspec.Meta(description="mesh = exact solid; convex_hull = fallback for open surfaces"),
    ]


class MeshSummary(msgspec.Struct, kw_only=True):
    vertices: Annotated[int, msgspec.Meta(description="Vertex count.")]
    faces: Annotated[int, msgspec.Meta(description="Triangle count.")]
    bounds: Annotated[
        list[list[float]], msgspec.Meta(description="[[xmin, ymin, zmin], [xmax, ymax, zmax]] (m)")
    ]
    components: Annotated[int, msgspec.Meta(description="connected components (parts)")]
    mass_properties: Annotated[
        MassProperties, msgspec.Meta(description="Mass properties at uniform density.")
    ]


class UrdfSummary(msgspec.Struct, kw_only=True):
    robot: Annotated[str, msgspec.Meta(description="Robot reference (asset id or built-in example path).")]
    nq: Annotated[int, msgspec.Meta(description="Configuration dimension.")]
    nv: Annotated[int, msgspec.Meta(description="Velocity dimension.")]
    joint_names: Annotated[list[str], msgspec.Meta(description="Joint order of q and v.")]
    body_links: Annotated[list[str], msgspec.Meta(description="Moving links, in joint order.")]
    root_link: Annotated[str, msgspec.Meta(description="Root link of the tree.")]
    total_mass: Annotated[float, msgspec.Meta(description="kg")]
    floating_base: Annotated[
        bool, msgspec.Meta(description="Add a free-flyer root joint (legged and wheeled robots).")
    ]


def kind_of(filename: str) -> Literal["urdf", "mesh", "usd"]:
    ext = os.path.splitext(filename.lower())[1]
    if ext in URDF_EXTENSIONS:
        return "urdf"
    if ext in MESH_EXTENSIONS:
        return "mesh"
    if ext in USD_EXTENSIONS:
        return "usd"
    raise AssetError(
        "unsupported_format",
        f"unsupported file type {ext or '(none)'!r}: expected URDF ({', '.join(URDF_EXTENSIONS)}), "
        f"mesh ({', '.join(MESH_EXTENSIONS)}) or USD ({', '.join(USD_EXTENSIONS)})",
    )


def validate_urdf(data: bytes, floating_base: bool = False) -> tuple[str, UrdfSummary]:
    """Decode and parse URDF with the core's parser; return the text and a summary."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise AssetError("invalid_urdf", "URDF is not valid UTF-8 text") from None
    try:
        model = Model.from_urdf_string(text, floating_base=floating_base)
    except ValueError as exc:
        raise AssetError("invalid_urdf", f"invalid URDF: {exc}") from None
    return text, UrdfSummary(
        robot=model.name,
        nq=model.nq,
        nv=model.nv,
        joint_names=model.joint_names,
        body_links=model.body_links,
        root_link=model.root_link,
        total_mass=model.total_mass,
        floating_base=model.floating_base,
    )


def _trimesh() -> Any:
    import trimesh

    return trimesh


def load_mesh(data: bytes, filename: str, scale: float = 1.0) -> Any:
    """Read a mesh file (or a USD stage's meshes) into one ``trimesh.Trimesh``."""
    if not (scale > 0 and math.isfinite(scale)):
        raise AssetError("invalid_mesh", "scale must be a positive finite number")
    kind = kind_of(filename)
    if kind == "usd":
        mesh = _load_usd(data, filename)
    elif kind == "mesh":
        trimesh = _trimesh()
        ext = os.path.splitext(filename.lower())[1][1:]
        try:
            loaded = trimesh.load(io.BytesIO(data), file_type=ext, force="mesh", process=True)
        except Exception as exc:
            raise AssetError("invalid_mesh", f"cannot read {ext.upper()} mesh: {exc}") from None
        mesh = loaded
    else:
        raise AssetError("invalid_mesh", "a URDF is not a mesh")
    if not hasattr(mesh, "faces") or len(mesh.faces) == 0 or len(mesh.vertices) == 0:
        raise AssetError("invalid_mesh", "the mesh has no triangles")
    if len(mesh.faces) > MAX_FACES:
        raise AssetError("invalid_mesh", f"the mesh has {len(mesh.faces)} faces (limit {MAX_FACES})")
    if not np.all(np.isfinite(mesh.vertices)):
        raise AssetError("invalid_mesh", "the mesh has non-finite vertex coordinates")
    if scale != 1.0:
        mesh = mesh.copy()
        mesh.apply_scale(scale)
    return mesh


def _load_usd(data: bytes, filename: str) -> Any:
    try:
        from pxr import Usd, UsdGeom
    except ImportError:
        raise AssetError(
            "unsupported_format", "USD import needs the usd-core package, which is not installed"
        ) from None
    trimesh = _trimesh()
    ext = os.path.splitext(filename.lower())[1]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"asset{ext}")
        with open(path, "wb") as fh:
            fh.write(data)
        try:
            stage = Usd.Stage.Open(path)
        except Exception as exc:
            raise AssetError("invalid_usd", f"cannot open USD stage: {exc}") from None
        if stage is None:
            raise AssetError("invalid_usd", "cannot open USD stage")
        meters = float(UsdGeom.GetStageMetersPerUnit(stage) or 1.0)
        parts = []
        cache = UsdGeom.XformCache()
        for prim in stage.Traverse():
            if not prim.IsA(UsdGeom.Mesh):
                continue
            geom = UsdGeom.Mesh(prim)
            points = np.asarray(geom.GetPointsAttr().Get() or [], dtype=np.float64)
            counts = list(geom.GetFaceVertexCountsAttr().Get() or [])
            indices = list(geom.GetFaceVertexIndicesAttr().Get() or [])
            if points.size == 0 or not counts:
                continue
            faces: list[list[int]] = []
            k = 0
            for c in counts:  # fan-triangulate polygons
                poly = indices[k : k + c]
                k += c
                faces.extend([poly[0], poly[i], poly[i + 1]] for i in range(1, c - 1))
            xf = np.asarray(cache.GetLocalToWorldTransform(prim), dtype=np.float64)
            world = points @ xf[:3, :3] + xf[3, :3]  # USD matrices are row-vector convention
            parts.append(trimesh.Trimesh(vertices=world * meters, faces=np.asarray(faces), process=True))
    if not parts:
        raise AssetError("invalid_usd", "the USD stage has no meshes")
    return trimesh.util.concatenate(parts)


def mass_properties(mesh: Any, density: float) -> MassProperties:
    if not (density > 0 and math.isfinite(density)):
        raise AssetError("invalid_mesh", "density must be a positive finite number (kg/m^3)")
    solid, source = mesh, "mesh"
    try:
        if not mesh.is_watertight:
            solid, source = mesh.convex_hull, "convex_hull"
        elif mesh.volume < 0:
            solid = mesh.copy()
            solid.invert()
        solid = solid.copy()
        solid.density = density
        mp = solid.mass_properties
    except Exception as exc:  # qhull on flat or degenerate input
        raise AssetError("invalid_mesh", f"cannot compute mass properties: {exc}") from None
    if not (mp["volume"] > 0 and np.all(np.isfinite(mp["inertia"]))):
        raise AssetError("invalid_mesh", "the mesh encloses no volume (flat or degenerate)")
    return MassProperties(
        mass=float(mp["mass"]),
        volume=float(mp["volume"]),
        density=float(density),
        center_of_mass=[float(x) for x in mp["center_mass"]],
        inertia=[[float(x) for x in row] for row in mp["inertia"]],
        watertight=bool(mesh.is_watertight),
        source=source,  # type: ignore[arg-type]
    )


def _radial_pairs(
    half_edges: np.ndarray, faces: np.ndarray, vertices: np.ndarray
) -> list[tuple[int, int]] | None:
    """Pair the faces around one non-manifold edge into the solids they bound.

    Walking around the edge, every face bounds a wedge of material on one side (opposite its
    outward normal). Sorted by angle, a face with material on its counter-clockwise side pairs
    with the next face, which must close that wedge (material on its clockwise side); two boxes
    sharing a face thus stay two solids. Returns None when the orientations are inconsistent.
    """
    f = half_edges // 3
    k = half_edges % 3
    va = faces[f, k]
    vb = faces[f, (k + 1) % 3]
    vc = faces[f, (k + 2) % 3]
    lo, hi = min(int(va[0]), int(vb[0])), max(int(va[0]), int(vb[0]))
    e = vertices[hi] - vertices[lo]
    norm = np.linalg.norm(e)
    if norm == 0.0:
        return None
    e = e / norm
    d = vertices[vc] - vertices[lo]
    d = d - np.outer(d @ e, e)
    dn = np.linalg.norm(d, axis=1)
    if np.any(dn == 0.0):
        return None
    d = d / dn[:, None]
    u = d[0]
    w = np.cross(e, u)
    theta = np.mod(np.arctan2(d @ w, d @ u), 2.0 * np.pi)
    theta = np.where(theta > 2.0 * np.pi - 1e-9, 0.0, np.round(theta, 9))
    tri = vertices[faces[f]]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    side = np.where(np.einsum("ij,ij->i", normal, np.cross(e, d)) < 0.0, 1, -1)
    order = np.lexsort((side, theta))  # at equal angles the closing face (-1) comes first
    n = len(order)
    pairs = []
    for i in range(n):
        if side[order[i]] == 1:
            j = order[(i + 1) % n]
            if side[j] != -1:
                return None
            pairs.append((int(f[order[i]]), int(f[j])))
    return pairs if 2 * len(pairs) == n else None


def component_labels(faces: np.ndarray, n_vertices: int, vertices: np.ndarray | None = None) -> np.ndarray:
    """Connected-component label of every face: faces are connected across the edges they
    share (not through a lone shared vertex). At an edge shared by more than two faces (solids
    touching along a face or an edge) the faces are paired by orientation around the edge
    (:func:`_radial_pairs`, needs ``vertices``), so touching solids stay separate parts."""
    faces = np.asarray(faces, dtype=np.int64)
    n_faces = len(faces)
    if n_faces == 0:
        return np.zeros(0, dtype=np.int64)
    a = faces.ravel()
    b = np.roll(faces, -1, axis=1).ravel()
    key = np.minimum(a, b) * np.int64(n_vertices) + np.maximum(a, b)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
    counts = np.diff(np.r_[starts, len(ks)])
    two = starts[counts == 2]
    src = [order[two] // 3]
    dst = [order[two + 1] // 3]
    verts = None if vertices is None else np.asarray(vertices, dtype=np.float64)
    for st, c in zip(starts[counts > 2], counts[counts > 2], strict=True):
        half = order[st : st + c]
        pairs = None if verts is None else _radial_pairs(half, faces, verts)
        if pairs is None:  # no geometry or inconsistent orientation: connect them all
            fs = half // 3
            src.append(fs[:-1])
            dst.append(fs[1:])
        elif pairs:
            p = np.asarray(pairs, dtype=np.int64)
            src.append(p[:, 0])
            dst.append(p[:, 1])
    import scipy.sparse
    import scipy.sparse.csgraph

    i = np.concatenate(src)
    j = np.concatenate(dst)
    graph = scipy.sparse.coo_matrix((np.ones(len(i)), (i, j)), shape=(n_faces, n_faces))
    _, labels = scipy.sparse.csgraph.connected_components(graph, directed=False)
    # number components in order of their first face, as np.unique(return_inverse) did
    _, first = np.unique(labels, return_index=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(np.argsort(first))] = np.arange(len(first))
    return rank[labels]


def _merged(mesh: Any) -> Any:
    m = mesh.copy()
    m.merge_vertices()
    return m


def count_components(mesh: Any) -> int:
    m = _merged(mesh)
    return int(component_labels(np.asarray(m.faces), len(m.vertices), np.asarray(m.vertices)).max() + 1)


def summarize_mesh(mesh: Any, density: float) -> MeshSummary:
    return MeshSummary(
        vertices=len(mesh.vertices),
        faces=len(mesh.faces),
        bounds=[[float(x) for x in row] for row in mesh.bounds],
        components=count_components(mesh),
        mass_properties=mass_properties(mesh, density),
    )


class Part(msgspec.Struct, kw_only=True):
    """One connected component of a mesh."""

    index: Annotated[int, msgspec.Meta(description="part index, largest volume first")]
    name: Annotated[str, msgspec.Meta(description="Part name (part_<index>).")]
    faces: Annotated[int, msgspec.Meta(description="Triangle count.")]
    vertices: Annotated[int, msgspec.Meta(description="Vertex count.")]
    bounds: Annotated[
        list[list[float]], msgspec.Meta(description="[[xmin, ymin, zmin], [xmax, ymax, zmax]] (m).")
    ]
    mass_properties: Annotated[
        MassProperties, msgspec.Meta(description="Mass properties at uniform density.")
    ]


def segment(mesh: Any, density: float, min_faces: int = 1) -> tuple[list[Part], list[Any]]:
    """Split ``mesh`` into connected components, largest first; also returns the part meshes."""
    m = _merged(mesh)
    faces = np.asarray(m.faces)
    labels = component_labels(faces, len(m.vertices), np.asarray(m.vertices))
    trimesh = _trimesh()
    pieces = []
    for lab in range(int(labels.max()) + 1):
        sel = faces[labels == lab]
        if len(sel) < min_faces:
            continue
        used, inv = np.unique(sel, return_inverse=True)
        piece = trimesh.Trimesh(vertices=m.vertices[used], faces=inv.reshape(-1, 3), process=False)
        pieces.append((piece, mass_properties(piece, density)))
    if not pieces:
        raise AssetError("invalid_mesh", f"no part has at least {min_faces} faces")
    pieces.sort(key=lambda p: (-p[1].volume, p[1].center_of_mass))
    parts = [
        Part(
            index=i,
            name=f"part_{i}",
            faces=len(p.faces),
            vertices=len(p.vertices),
            bounds=[[float(x) for x in row] for row in p.bounds],
            mass_properties=mp,
        )
        for i, (p, mp) in enumerate(pieces)
    ]
    return parts, [p for p, _ in pieces]


# ---------------------------------------------------------------- linkages

Vec3 = Annotated[list[float], msgspec.Meta(min_length=3, max_length=3)]


class LinkSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A rigid link: inertial properties given directly, or taken from a segmented asset's part
    (``asset_id`` + ``part_index``, resolved by the service before :func:`build_linkage`)."""

    name: Annotated[
        str,
        msgspec.Meta(
            description="Link name (unique).",
            min_length=1,
            max_length=128,
            pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$",
        ),
    ]
    mass: Annotated[float | None, msgspec.Meta(description="kg")] = None
    center_of_mass: Annotated[
        Vec3 | None, msgspec.Meta(description="Centre of mass in the link frame [x, y, z] (m).")
    ] = None
    inertia: Annotated[
        list[list[float]] | None, msgspec.Meta(description="3x3 about the centre of mass (kg m^2)")
    ] = None
    asset_id: Annotated[str | None, msgspec.Meta(description="mesh asset whose part gives the inertials")] = (
        None
    )
    part_index: (
        Annotated[int, msgspec.Meta(ge=0, description="part of that asset (POST /api/design/segment)")] | None
    ) = None
    density: Annotated[float, msgspec.Meta(gt=0, description="kg/m^3 for the part (default 1000)")] | None = (
        None
    )


class JointSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A joint connecting ``parent`` to ``child`` (URDF semantics: the child frame sits at
    ``origin_xyz``/``origin_rpy`` in the parent frame and moves about/along ``axis``)."""

    name: Annotated[
        str,
        msgspec.Meta(
            description="Joint name (unique).",
            min_length=1,
            max_length=128,
            pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$",
        ),
    ]
    type: Annotated[
        Literal["revolute", "continuous", "prismatic", "fixed"],
        msgspec.Meta(description="Joint type: revolute, continuous, prismatic or fixed."),
    ]
    parent: Annotated[str, msgspec.Meta(description="Parent link.")]
    child: Annotated[str, msgspec.Meta(description="Child link.")]
    origin_xyz: Annotated[Vec3, msgspec.Meta(description="Child frame position in the parent frame (m).")] = (
        msgspec.field(default_factory=lambda: [0.0, 0.0, 0.0])
    )
    origin_rpy: Annotated[
        Vec3, msgspec.Meta(description="Child frame roll, pitch, yaw in the parent frame (rad).")
    ] = msgspec.field(default_factory=lambda: [0.0, 0.0, 0.0])
    axis: Annotated[
        Vec3,
        msgspec.Meta(description="Joint axis in the child frame (unit vector; normalised by the parser)."),
    ] = msgspec.field(default_factory=lambda: [0.0, 0.0, 1.0])
    lower: Annotated[
        float | None,
        msgspec.Meta(description="Lower position limit (rad or m); null = none (revolute default -pi)."),
    ] = None
    upper: Annotated[
        float | None,
        msgspec.Meta(description="Upper position limit (rad or m); null = none (revolute default pi)."),
    ] = None
    effort: (
        Annotated[float, msgspec.Meta(description="Effort limit (N m or N); null = unlimited.", gt=0)] | None
    ) = None
    velocity: (
        Annotated[float, msgspec.Meta(description="Velocity limit (rad/s or m/s); null = unlimited.", gt=0)]
        | None
    ) = None
    damping: Annotated[float, msgspec.Meta(description="Viscous damping (N m s/rad or N s/m).", ge=0)] = 0.0
    friction: Annotated[float, msgspec.Meta(description="Coulomb friction (N m or N).", ge=0)] = 0.0


class ResolvedLink(msgspec.Struct, kw_only=True):
    name: Annotated[str, msgspec.Meta(description="Name.")]
    mass: Annotated[float, msgspec.Meta(description="Mass (kg).")]
    center_of_mass: Annotated[
        list[float], msgspec.Meta(description="Centre of mass in the link frame [x, y, z] (m).")
    ]
    inertia: Annotated[
        list[list[float]], msgspec.Meta(description="3x3 inertia about the centre of mass (kg m^2).")
    ]


class Linkage(msgspec.Struct, kw_only=True):
    """A kinematic tree: the root link, links in depth-first order, joints in the same order."""

    name: Annotated[str, msgspec.Meta(description="Name.")]
    root: Annotated[str, msgspec.Meta(description="Root link.")]
    links: Annotated[list[ResolvedLink], msgspec.Meta(description="Links.")]
    joints: Annotated[list[JointSpec], msgspec.Meta(description="Joints.")]
    dof: Annotated[int, msgspec.Meta(description="Degrees of freedom (non-fixed joints).")]
    total_mass: Annotated[float, msgspec.Meta(description="Total mass (kg).")]


def _check_inertial(link: ResolvedLink) -> None:
    if not (link.mass > 0 and math.isfinite(link.mass)):
        raise AssetError("invalid_linkage", f"link {link.name!r}: mass must be positive")
    inertia = np.asarray(link.inertia, dtype=np.float64)
    if inertia.shape != (3, 3) or not np.all(np.isfinite(inertia)):
        raise AssetError("invalid_linkage", f"link {link.name!r}: inertia must be a finite 3x3 matrix")
    if not np.allclose(inertia, inertia.T, atol=1e-12 + 1e-9 * np.abs(inertia).max()):
        raise AssetError("invalid_linkage", f"link {link.name!r}: inertia is not symmetric")
    if np.linalg.eigvalsh(inertia).min() <= 0:
        raise AssetError("invalid_linkage", f"link {link.name!r}: inertia is not positive definite")


def build_linkage(name: str, links: Sequence[ResolvedLink], joints: Sequence[JointSpec]) -> Linkage:
    """Validate a tree (one root, every other link the child of exactly one joint, no cycles) and
    order it depth-first from the root, following the joints' given order."""
    names = [lk.name for lk in links]
    if len(set(names)) != len(names):
        raise AssetError("invalid_linkage", "link names must be unique")
    if len({j.name for j in joints}) != len(joints):
        raise AssetError("invalid_linkage", "joint names must be unique")
    by_name = {lk.name: lk for lk in links}
    for lk in links:
        _check_inertial(lk)
    parent_of: dict[str, str] = {}
    children: dict[str, list[JointSpec]] = {n: [] for n in names}
    for j in joints:
        for end in (j.parent, j.child):
            if end not in by_name:
                raise AssetError("invalid_linkage", f"joint {j.name!r} refers to unknown link {end!r}")
        if j.child in parent_of:
            raise AssetError("invalid_linkage", f"link {j.child!r} is the child of two joints")
        if j.parent == j.child:
            raise AssetError("invalid_linkage", f"joint {j.name!r} connects link {j.child!r} to itself")
        if j.type != "fixed" and float(np.linalg.norm(j.axis)) < 1e-9:
            raise AssetError("invalid_linkage", f"joint {j.name!r} has a zero axis")
        if j.type in ("revolute", "prismatic") and (j.lower is None) != (j.upper is None):
            raise AssetError("invalid_linkage", f"joint {j.name!r}: give both lower and upper or neither")
        if j.lower is not None and j.upper is not None and j.lower > j.upper:
            raise AssetError("invalid_linkage", f"joint {j.name!r}: lower limit above upper limit")
        parent_of[j.child] = j.parent
        children[j.parent].append(j)
    roots = [n for n in names if n not in parent_of]
    if len(roots) != 1:
        raise AssetError(
            "invalid_linkage",
            f"a linkage needs exactly one root link; found {len(roots)}"
            + (f" ({', '.join(roots)})" if roots else " (the joints form a cycle)"),
        )
    order: list[str] = []
    ordered_joints: list[JointSpec] = []
    stack = [roots[0]]
    seen: set[str] = set()
    while stack:
        link = stack.pop()
        if link in seen:
            raise AssetError("invalid_linkage", f"the joints form a cycle through link {link!r}")
        seen.add(link)
        order.append(link)
        for j in reversed(children[link]):
            stack.append(j.child)
    if len(seen) != len(names):
        missing = sorted(set(names) - seen)
        raise AssetError("invalid_linkage", f"links not connected to the root (cycle): {', '.join(missing)}")
    # joints in depth-first order of their child link
    joint_by_child = {j.child: j for j in joints}
    ordered_joints = [joint_by_child[n] for n in order[1:]]
    return Linkage(
        name=name,
        root=roots[0],
        links=[by_name[n] for n in order],
        joints=ordered_joints,
        dof=sum(1 for j in ordered_joints if j.type != "fixed"),
        total_mass=float(sum(lk.mass for lk in links)),
    )


def _fmt(x: float) -> str:
    return repr(float(x))


def to_urdf(linkage: Linkage) -> str:
    """URDF text for the linkage (inertials only; no visual or collision geometry)."""
    out = ['<?xml version="1.0"?>', f"<robot name={quoteattr(linkage.name)}>"]
    for lk in linkage.links:
        c = lk.center_of_mass
        i = lk.inertia
        out += [
            f"  <link name={quoteattr(lk.name)}>",
            "    <inertial>",
            f'      <origin xyz="{_fmt(c[0])} {_fmt(c[1])} {_fmt(c[2])}" rpy="0 0 0"/>',
            f'      <mass value="{_fmt(lk.mass)}"/>',
            f'      <inertia ixx="{_fmt(i[0][0])}" ixy="{_fmt(i[0][1])}" ixz="{_fmt(i[0][2])}" '
            f'iyy="{_fmt(i[1][1])}" iyz="{_fmt(i[1][2])}" izz="{_fmt(i[2][2])}"/>',
            "    </inertial>",
            "  </link>",
        ]
    for j in linkage.joints:
        x, r, a = j.origin_xyz, j.origin_rpy, j.axis
        out += [
            f"  <joint name={quoteattr(j.name)} type={quoteattr(j.type)}>",
            f"    <parent link={quoteattr(j.parent)}/>",
            f"    <child link={quoteattr(j.child)}/>",
            f'    <origin xyz="{_fmt(x[0])} {_fmt(x[1])} {_fmt(x[2])}" rpy="{_fmt(r[0])} {_fmt(r[1])} {_fmt(r[2])}"/>',
        ]
        if j.type != "fixed":
            out.append(f'    <axis xyz="{_fmt(a[0])} {_fmt(a[1])} {_fmt(a[2])}"/>')
            attrs = []
            if j.type in ("revolute", "prismatic"):
                attrs += [
                    f'lower="{_fmt(j.lower if j.lower is not None else -math.pi)}"',
                    f'upper="{_fmt(j.upper if j.upper is not None else math.pi)}"',
                ]
            if j.effort is not None or attrs:
                attrs.append(f'effort="{_fmt(j.effort if j.effort is not None else 1e6)}"')
                attrs.append(f'velocity="{_fmt(j.velocity if j.velocity is not None else 1e6)}"')
            if attrs:
                out.append(f"    <limit {' '.join(attrs)}/>")
            if j.damping or j.friction:
                out.append(f'    <dynamics damping="{_fmt(j.damping)}" friction="{_fmt(j.friction)}"/>')
        out.append("  </joint>")
    out.append("</robot>")
    return "\n".join(out) + "\n"


__all__ = [
    "AssetError",
    "JointSpec",
    "LinkSpec",
    "Linkage",
    "MassProperties",
    "MeshSummary",
    "Part",
    "ResolvedLink",
    "UrdfSummary",
    "build_linkage",
    "component_labels",
    "kind_of",
    "load_mesh",
    "mass_properties",
    "segment",
    "summarize_mesh",
    "to_urdf",
    "validate_urdf",
]

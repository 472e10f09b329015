"""Devices: pick them by platform, and split chains across them with a one-axis :class:`jax.sharding.Mesh`.

One process, several devices (GPUs, or CPU "devices" forced with
``XLA_FLAGS=--xla_force_host_platform_device_count=N`` set before JAX is imported): :func:`simulate` lays the
chain axis of its state over a ``Mesh(devices, ("chains",))``; each device advances its own chains, and the
per-generation reductions across chains become all-reduces inserted by the compiler. Random numbers come
from ``jax.random`` with partitionable Threefry (the default), so a chain's draws do not depend on how many
devices share the work: results equal those of one device up to the order of floating-point sums.

Several hosts: call ``jax.distributed.initialize()`` (arguments or the cluster's environment: coordinator
address, number of processes, process id) in every process before anything else touches JAX, then run the
same ``simulate`` call, with the same key, in every process. ``jax.devices()`` then lists the devices of all
hosts, the mesh spans them, and the compiled program is the same SPMD program everywhere; the small
per-generation moments come back replicated to every process, and trajectories (sharded over hosts) are
gathered with ``multihost_utils.process_allgather``. Nothing else changes.
"""

from __future__ import annotations

import jax

from .._errors import ParameterError

DEVICE_KINDS = ("cpu", "gpu")


def select_devices(device: str | None = None, devices=None) -> list:
    """The devices to run on: ``devices`` if given, else every device of platform ``device``
    (``"cpu"``, ``"gpu"``; ``None``: JAX's default backend).
    """
    if devices is not None:
        devices = list(devices)
        if not devices:
            raise ParameterError("devices", "a non-empty list of JAX devices", devices)
        return devices
    if device is None:
        return list(jax.devices())
    if device not in DEVICE_KINDS:
        raise ParameterError("device", "'cpu' or 'gpu'", device)
    try:
        found = list(jax.devices(device))
    except RuntimeError:
        found = []
    if not found:
        available = sorted({d.platform for d in jax.devices()})
        raise ParameterError("device", f"a platform present on this machine ({', '.join(available)})", device)
    return found


def chain_mesh(devices: list):
    """A one-axis mesh named ``"chains"`` over ``devices``, or ``None`` for a single device."""
    if len(devices) <= 1:
        return None
    import numpy as np
    from jax.sharding import Mesh

    return Mesh(np.array(devices), ("chains",))


def to_host(x):
    """Fetch a (possibly multi-host sharded) array to a NumPy array in this process."""
    import numpy as np

    if jax.process_count() > 1 and not getattr(x, "is_fully_addressable", True):
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(x, tiled=True))
    return np.asarray(x)

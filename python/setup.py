"""The shmq Python package: Python over libshmq's C API through cffi.

Building it compiles libshmq with CMake from the enclosing source tree (or
takes it from an existing build: SHMQ_BUILD_DIR=/path/to/build) and ships
libshmq.so.0 and shmq/shmq.h inside the package, so the installed package
needs nothing of the source tree. libshmq links only the C and C++ runtimes.
It also compiles shmq._native_api (cffi's API mode, see build_native.py),
linked with the shipped libshmq.so.0; that needs a C compiler and Python's
headers (python3-dev).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

SOURCE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_native  # noqa: E402


def built_library() -> Path:
    existing = os.environ.get("SHMQ_BUILD_DIR")
    if existing:
        build = Path(existing).resolve()
    else:
        build = Path(__file__).resolve().parent / "build" / "libshmq"
        subprocess.run(["cmake", "-S", str(SOURCE), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                        "-DSHMQ_BUILD_DAEMON=OFF"], check=True)
        subprocess.run(["cmake", "--build", str(build), "--target", "shmq", "-j", str(os.cpu_count() or 1)],
                       check=True)
    library = build / "client" / "libshmq.so.0"
    if not library.exists():
        raise SystemExit(f"shmq: {library} was not built; is {build} a CMake build of shmq?")
    return library.resolve()  # the versioned file, not the symlink


class BuildPyWithLibshmq(build_py):
    """Puts libshmq and the header its declarations are read from into the package."""

    def run(self):
        super().run()
        package = Path(self.build_lib) / "shmq"
        shutil.copyfile(built_library(), package / "libshmq.so.0")
        shutil.copyfile(SOURCE / "client" / "include" / "shmq" / "shmq.h", package / "shmq.h")


class BuildExtWithCffi(build_ext):
    """Compiles shmq._native_api from the C source cffi emits, linked with
    the libshmq.so.0 that build_py (run first) put into the package, which
    the module then finds next to itself ($ORIGIN)."""

    def run(self):
        source = Path(self.build_temp).resolve() / "_native_api.c"
        source.parent.mkdir(parents=True, exist_ok=True)
        build_native.builder().emit_c_code(str(source))
        package = Path(self.build_lib).resolve() / "shmq"
        for extension in self.extensions:
            extension.sources = [str(source)]
            extension.include_dirs = [str(build_native.INCLUDE_DIR)]
            extension.library_dirs = [str(package)]
            extension.extra_link_args = ["-l:libshmq.so.0", "-Wl,-rpath,$ORIGIN"]
        super().run()


setup(
    name="shmq",
    version="0.1.0",
    description="Python client of shmq, a shared-memory message broker for one machine",
    packages=["shmq"],
    package_data={"shmq": ["py.typed", "*.pyi"]},
    python_requires=">=3.11",
    install_requires=["cffi>=1.15"],
    ext_modules=[Extension(build_native.MODULE, sources=[])],  # sources: see BuildExtWithCffi
    zip_safe=False,
    cmdclass={"build_py": BuildPyWithLibshmq, "build_ext": BuildExtWithCffi},
)

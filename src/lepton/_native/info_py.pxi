# Build and runtime facts of this compiled core (GIL side): OpenMP, the ISA level and flags
# it was built for, the GEMM blocking table, and the CPU's ISA levels, which
# lepton._native.dispatch reads to pick a level.

def parallel_regions():
    """Number of multi-threaded regions lepton's kernels have opened in this process
    (a diagnostic: a kernel whose work was too small for threads, or a serial build, opens
    none)."""
    return lepton_regions_opened()


def openmp_enabled():
    """Return True if this build of lepton runs its kernels with OpenMP threads."""
    return bool(lepton_openmp_enabled())


def omp_max_threads():
    """OpenMP's current default team size (honours OMP_NUM_THREADS and threadpoolctl)."""
    return lepton_omp_max_threads()


def omp_num_procs():
    """Number of processors OpenMP can use."""
    return lepton_omp_num_procs()


def build_info():
    """Dict describing this build: ISA level, compiler, flags, OpenMP and GEMM blocking."""
    return {
        "isa": lepton_isa_name().decode(),
        "compiler": lepton_compiler().decode(),
        "cflags": lepton_cflags().decode(),
        "openmp": bool(lepton_openmp_enabled()),
        "openmp_version": lepton_openmp_version(),
        "gemm_f32": {"MR": MR_F32, "NR": NR_F32, "KC": KC_F32, "MC": MC_F32, "NC": NC_F32},
        "gemm_f64": {"MR": MR_F64, "NR": NR_F64, "KC": KC_F64, "MC": MC_F64, "NC": NC_F64},
    }


def cpu_isa_mask():
    """Bit mask of ISA levels the running CPU supports: 1 baseline, 2 AVX2+FMA, 4 AVX-512."""
    return lepton_cpu_isa_mask()

from setuptools import find_packages, setup

setup(
    name="minigan",
    version="0.1.0",
    description="A from-scratch GAN teaching engine: autograd, convolutions and every GAN "
                "of the notes, on NumPy (or CuPy for CUDA).",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["minigan", "minigan.*"]),
    package_data={"minigan.data": ["*.npz", "ATTRIBUTION.md"], "minigan": ["weights/*.npz"]},
    install_requires=["numpy>=1.24", "matplotlib>=3.7", "tqdm>=4.60", "threadpoolctl>=3.1"],
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6"],
        "cuda": ["cupy-cuda12x"],
        "cuda13": ["cupy-cuda13x"],
    },
    entry_points={"console_scripts": ["minigan=minigan.cli:main"]},
)

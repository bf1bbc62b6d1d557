"""diffusionkit_torch: a PyTorch trainer for DiffusionKit's context U-Net and attention U-Net.

It trains the same model as the .NET trainer (``diffusionkit train``), distributed with DDP from the start, and reads
and writes the .NET checkpoint folders (``config.json``, ``model.safetensors``, ``training_state.*``), so a run can
move between the two trainers in both directions. See ``python/README.md``.
"""

__version__ = "0.1.0"

"""The training output folder: step folders, ``latest``, keep, atomic publishing, leftovers."""

import os
import tempfile
import unittest
from pathlib import Path

import helpers  # noqa: F401
from diffusionkit_torch import checkpoint_directory as cd


def write_config(folder: str) -> None:
    Path(os.path.join(folder, "config.json")).write_text("{}")


class CheckpointDirectoryTests(unittest.TestCase):
    def test_publish_names_the_step_updates_latest_and_keeps_the_newest(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            for step in (10, 20, 30, 40):
                folder = cd.publish(root, step, write_config, keep=2)
                self.assertEqual(os.path.basename(folder), f"step-{step:07d}")
                self.assertEqual(Path(os.path.join(root, "latest")).read_text(), f"step-{step:07d}\n")
            self.assertEqual(sorted(os.listdir(root)), ["latest", "step-0000030", "step-0000040"])
            self.assertEqual(cd.resolve(root), os.path.join(root, "step-0000040"))
            self.assertEqual(cd.resolve(os.path.join(root, "step-0000030")), os.path.join(root, "step-0000030"))

    def test_a_failed_write_leaves_the_previous_checkpoint_current_and_no_leftover(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            cd.publish(root, 1, write_config, keep=3)

            def fail(folder: str) -> None:
                write_config(folder)
                raise OSError("disk full")

            with self.assertRaises(OSError):
                cd.publish(root, 2, fail, keep=3)
            self.assertEqual(sorted(os.listdir(root)), ["latest", "step-0000001"])
            self.assertEqual(cd.resolve(root), os.path.join(root, "step-0000001"))

    def test_the_same_step_written_again_replaces_it(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            cd.publish(root, 5, write_config, keep=3)
            cd.publish(root, 5, lambda f: Path(os.path.join(f, "config.json")).write_text("{\"again\": 1}"), keep=3)
            self.assertEqual(Path(os.path.join(root, "step-0000005", "config.json")).read_text(), "{\"again\": 1}")
            self.assertEqual(sorted(os.listdir(root)), ["latest", "step-0000005"])

    def test_readers_fall_back_to_the_newest_step_and_leftovers_are_cleaned(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            for step in (3, 12):
                os.makedirs(os.path.join(root, cd.step_folder_name(step)))
                write_config(os.path.join(root, cd.step_folder_name(step)))
            Path(os.path.join(root, "latest")).write_text("step-0000099\n")
            self.assertEqual(cd.resolve(root), os.path.join(root, "step-0000012"), "latest names a missing folder")
            os.makedirs(os.path.join(root, ".tmp-step-0000013-abcd1234"))
            Path(os.path.join(root, ".latest.abcd1234.tmp")).touch()
            self.assertEqual(cd.clean_leftovers(root), 2)
            self.assertEqual(sorted(os.listdir(root)), ["latest", "step-0000003", "step-0000012"])


if __name__ == "__main__":
    unittest.main()

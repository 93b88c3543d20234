package lifecert.android

import java.io.File
import java.nio.file.Files
import javax.crypto.KeyGenerator
import lifecert.android.keys.AesGcmKeyWrapper
import lifecert.android.keys.FileBlobStore
import lifecert.android.keys.KeyVault
import lifecert.android.keys.KeyVaultException
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertThrows
import org.junit.Test

/**
 * The keys are made once by the core, stored only wrapped by an AES-GCM key (on a phone: one that never leaves the
 * Android Keystore; here a JCE key stands in for it), and refused when the stored blob is altered or swapped.
 */
class KeyVaultTest {
    private val dir: File = Files.createTempDirectory("lifecert-keys").toFile()
    private val wrapping = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
    private val vault = KeyVault(AesGcmKeyWrapper { wrapping }, FileBlobStore(dir))

    @Test
    fun keysAreMadeOnceAndStoredOnlyWrapped() {
        val first = vault.certificationKeys()
        val again = KeyVault(AesGcmKeyWrapper { wrapping }, FileBlobStore(dir)).certificationKeys()
        assertArrayEquals(first.subjectKey, again.subjectKey)
        assertArrayEquals(first.sealingKey, again.sealingKey)
        assertArrayEquals(first.deviceKeyPkcs8, again.deviceKeyPkcs8)
        assertArrayEquals(first.sealingKey, vault.enrollmentKeys().sealingKey)
        assertEquals(32, first.sealingKey.size)
        for ((name, key) in listOf(KeyVault.SUBJECT to first.subjectKey, KeyVault.SEALING to first.sealingKey, KeyVault.DEVICE to first.deviceKeyPkcs8)) {
            val stored = File(dir, name).readBytes()
            assertFalse("$name is not stored in clear", stored.asList().windowed(16).contains(key.copyOf(16).asList()))
        }
        KeyVault.wipe(first)
        assertArrayEquals(ByteArray(32), first.sealingKey)
    }

    @Test
    fun alteredSwappedOrForeignBlobsAreRefused() {
        vault.certificationKeys()
        val sealing = File(dir, KeyVault.SEALING)
        val blob = sealing.readBytes()
        sealing.writeBytes(blob.copyOf().also { it[it.size - 1] = (it[it.size - 1].toInt() xor 1).toByte() })
        assertThrows(KeyVaultException::class.java) { vault.certificationKeys() }
        File(dir, KeyVault.SUBJECT).copyTo(sealing, overwrite = true)
        assertThrows("a blob stored under another name", KeyVaultException::class.java) { vault.certificationKeys() }
        sealing.writeBytes(blob)
        val other = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
        assertThrows("another wrapping key", KeyVaultException::class.java) {
            KeyVault(AesGcmKeyWrapper { other }, FileBlobStore(dir)).certificationKeys()
        }
        assertEquals(32, vault.certificationKeys().sealingKey.size)
    }
}

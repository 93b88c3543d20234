package lifecert.android.keys

import java.io.File
import java.nio.ByteBuffer
import java.security.GeneralSecurityException
import javax.crypto.Cipher
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import uniffi.lifecert_ffi.CertificationKeys
import uniffi.lifecert_ffi.EnrollmentKeys
import uniffi.lifecert_ffi.devicePublicKey
import uniffi.lifecert_ffi.generateDeviceKey
import uniffi.lifecert_ffi.generateSealingKey
import uniffi.lifecert_ffi.generateSubjectKey

/** A key could not be unwrapped: the stored blob was altered, or the wrapping key is gone (app data restored elsewhere). */
class KeyVaultException(message: String, cause: Throwable? = null) : Exception(message, cause)

/** Encrypts and decrypts small secrets; [name] is bound to each (a blob cannot be swapped for another's). */
interface KeyWrapper {
    fun wrap(name: String, plain: ByteArray): ByteArray

    fun unwrap(name: String, wrapped: ByteArray): ByteArray
}

/**
 * AES-256-GCM with a key that never leaves its keystore: on Android the `AndroidKeyStore` key made by
 * `lifecert.android.platform.AndroidKeystore` (the cipher picks the IV). Blob: version byte, IV length, IV,
 * ciphertext with its 128-bit tag; the secret's name is the associated data.
 */
class AesGcmKeyWrapper(private val key: () -> SecretKey) : KeyWrapper {
    override fun wrap(name: String, plain: ByteArray): ByteArray {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, key())
        cipher.updateAAD(name.toByteArray())
        val iv = cipher.iv
        val sealed = cipher.doFinal(plain)
        return ByteBuffer.allocate(2 + iv.size + sealed.size).put(VERSION).put(iv.size.toByte()).put(iv).put(sealed).array()
    }

    override fun unwrap(name: String, wrapped: ByteArray): ByteArray {
        if (wrapped.size < 2 || wrapped[0] != VERSION) throw KeyVaultException("$name: not a wrapped key")
        val ivLength = wrapped[1].toInt()
        if (ivLength !in 12..16 || wrapped.size < 2 + ivLength + 16) throw KeyVaultException("$name: truncated")
        return try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, key(), GCMParameterSpec(128, wrapped, 2, ivLength))
            cipher.updateAAD(name.toByteArray())
            cipher.doFinal(wrapped, 2 + ivLength, wrapped.size - 2 - ivLength)
        } catch (e: GeneralSecurityException) {
            throw KeyVaultException("$name: cannot be unwrapped (altered, or the keystore key changed)", e)
        }
    }

    private companion object {
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val VERSION: Byte = 1
    }
}

/** Where wrapped keys are kept (Android: the app's no-backup directory). */
interface BlobStore {
    fun read(name: String): ByteArray?

    fun write(name: String, bytes: ByteArray)
}

/** One file per blob, written atomically (temporary file, then rename). */
class FileBlobStore(private val dir: File) : BlobStore {
    override fun read(name: String): ByteArray? = File(dir, name).takeIf { it.isFile }?.readBytes()

    override fun write(name: String, bytes: ByteArray) {
        dir.mkdirs()
        val tmp = File(dir, "$name.tmp")
        tmp.writeBytes(bytes)
        if (!tmp.renameTo(File(dir, name))) throw KeyVaultException("$name: cannot be stored in $dir")
    }
}

/**
 * The app's three keys — the subject key (HMAC of subject references), the sealing key (AES-GCM of the templates) and
 * the device's Ed25519 signing key — made once by the core's generators, stored only wrapped, unwrapped for a
 * session. The returned key records hold fresh copies: [wipe] them once the session is open.
 */
class KeyVault(private val wrapper: KeyWrapper, private val store: BlobStore) {
    @Synchronized
    fun enrollmentKeys() = EnrollmentKeys(subjectKey = key(SUBJECT, ::generateSubjectKey), sealingKey = key(SEALING, ::generateSealingKey))

    @Synchronized
    fun certificationKeys() = CertificationKeys(
        subjectKey = key(SUBJECT, ::generateSubjectKey),
        sealingKey = key(SEALING, ::generateSealingKey),
        deviceKeyPkcs8 = key(DEVICE, ::generateDeviceKey),
    )

    /** The device's public key (to register the device with the authority). */
    @Synchronized
    fun devicePublicKey(): ByteArray {
        val pkcs8 = key(DEVICE, ::generateDeviceKey)
        return try {
            devicePublicKey(pkcs8)
        } finally {
            pkcs8.fill(0)
        }
    }

    private fun key(name: String, generate: () -> ByteArray): ByteArray {
        store.read(name)?.let { return wrapper.unwrap(name, it) }
        val fresh = generate()
        store.write(name, wrapper.wrap(name, fresh))
        return fresh
    }

    companion object {
        const val SUBJECT = "lifecert-subject-key"
        const val SEALING = "lifecert-sealing-key"
        const val DEVICE = "lifecert-device-key"

        /** Overwrites the key bytes of [keys] (the core has its own copies once the session is open). */
        fun wipe(keys: CertificationKeys) {
            keys.subjectKey.fill(0)
            keys.sealingKey.fill(0)
            keys.deviceKeyPkcs8.fill(0)
        }

        /** Overwrites the key bytes of [keys]. */
        fun wipe(keys: EnrollmentKeys) {
            keys.subjectKey.fill(0)
            keys.sealingKey.fill(0)
        }
    }
}

package lifecert.android.platform

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import java.io.File
import java.security.KeyStore
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import lifecert.android.keys.AesGcmKeyWrapper
import lifecert.android.keys.FileBlobStore
import lifecert.android.keys.KeyVault

/**
 * The wrapping key in the Android Keystore: AES-256-GCM, made on the phone, never extractable (hardware-backed where
 * the phone has it); the app's keys are stored only encrypted by it, in the no-backup directory (a backup restored
 * on another phone could not unwrap them anyway).
 */
object AndroidKeystore {
    private const val PROVIDER = "AndroidKeyStore"
    private const val ALIAS = "lifecert-key-wrapping"

    /** The key vault of this app. */
    fun vault(context: Context): KeyVault =
        KeyVault(AesGcmKeyWrapper(::wrappingKey), FileBlobStore(File(context.noBackupFilesDir, "lifecert-keys")))

    /** The wrapping key, made on first use. */
    @Synchronized
    fun wrappingKey(): SecretKey {
        val store = KeyStore.getInstance(PROVIDER).apply { load(null) }
        (store.getKey(ALIAS, null) as? SecretKey)?.let { return it }
        val spec = KeyGenParameterSpec.Builder(ALIAS, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .setRandomizedEncryptionRequired(true)
            .build()
        return KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, PROVIDER).apply { init(spec) }.generateKey()
    }
}
